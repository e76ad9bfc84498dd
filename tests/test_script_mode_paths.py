"""Script mode with the container's paths (issue 18, item 4): a script written for SageMaker,
which reads /opt/ml/input/... and writes /opt/ml/model and /opt/ml/output, runs unchanged
through the SDK; each job and each host sees its own /opt/ml; /opt/ml/output/failure is the
FailureReason; where /opt/ml cannot be shown, the SM_* variables still work and the log says
so. The launcher alone: unprivileged (a user namespace), and its fallback when a step is
refused."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import threading
from pathlib import Path

import pytest
import sagemaker
from sagemaker.exceptions import UnexpectedStatusException
from sagemaker.inputs import TrainingInput
from sagemaker.tensorflow import TensorFlow

from localaws.sagemaker.algorithms import script_mode

from .helpers import client, unique

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/opt/ml needs Linux namespaces")

FALLBACK = "[localaws] /opt/ml is not available offline on this machine"

WRITTEN_FOR_SAGEMAKER = """
import glob, json, os
config = "/opt/ml/input/config"
seen = {name: json.load(open(f"{config}/{name}.json"))
        for name in ("hyperparameters", "resourceconfig", "inputdataconfig")}
rows = [line for f in sorted(glob.glob("/opt/ml/input/data/train/*")) for line in open(f)]
seen.update(rows=len(rows), uid=os.getuid(), cwd=os.getcwd(), file=__file__, opt=sorted(os.listdir("/opt")),
            opt_ml=sorted(os.listdir("/opt/ml")), env={k: v for k, v in os.environ.items() if k.startswith("SM_")})
with open("/opt/ml/model/x", "w") as f:
    json.dump(seen, f)
os.makedirs("/opt/ml/output/data/sub", exist_ok=True)
with open("/opt/ml/output/data/sub/y", "w") as f:
    f.write(f"{len(rows)} rows")
"""


@pytest.fixture(scope="module")
def session():
    return sagemaker.Session()


@pytest.fixture(scope="module")
def train_data(session) -> str:
    bucket, prefix = session.default_bucket(), unique("opt-ml")
    client("s3").put_object(Bucket=bucket, Key=f"{prefix}/train/a.csv", Body=b"1,2\n3,4\n")
    client("s3").put_object(Bucket=bucket, Key=f"{prefix}/train/b.csv", Body=b"5,6\n")
    return f"s3://{bucket}/{prefix}/train"


def estimator(session, source: Path, code: str, **kwargs) -> TensorFlow:
    source.mkdir(parents=True, exist_ok=True)
    (source / "train.py").write_text(textwrap.dedent(code))
    return TensorFlow(entry_point="train.py", source_dir=str(source), role=os.environ["SAGEMAKER_ROLE_ARN"],
                      framework_version="2.19", py_version="py312", sagemaker_session=session,
                      instance_type="ml.m5.large", output_path=f"s3://{session.default_bucket()}/{unique('opt-ml')}",
                      **{"instance_count": 1, **kwargs})


def artifact(uri: str) -> dict[str, bytes]:
    """The files of a model.tar.gz / output.tar.gz on S3, by name."""
    bucket, key = uri[len("s3://"):].split("/", 1)
    body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def job_log(name: str) -> list[str]:
    logs = client("logs")
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs",
                                        logStreamNamePrefix=name + "/")["logStreams"]
    return [e["message"] for s in streams for e in logs.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=s["logStreamName"])["events"]]


def host_opt_ml() -> tuple | None:
    """The real /opt/ml as this process sees it: (listing, mtime), or None if there is none."""
    path = Path("/opt/ml")
    return (sorted(os.listdir(path)), path.stat().st_mtime_ns) if path.exists() else None


def mounts_under_opt() -> list[str]:
    return [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if " /opt" in line]


def test_a_script_written_for_sagemaker_runs_unchanged(session, train_data, tmp_path, emulator):
    before, host_opt = host_opt_ml(), sorted(e for e in os.listdir("/opt") if e != "ml")
    job = estimator(session, tmp_path / "src", WRITTEN_FOR_SAGEMAKER, hyperparameters={"epochs": 3})
    job.fit({"train": TrainingInput(train_data, content_type="text/csv")})
    described = session.describe_training_job(job.latest_training_job.name)
    model_uri = described["ModelArtifacts"]["S3ModelArtifacts"]
    seen = json.loads(artifact(model_uri)["x"])
    assert artifact(model_uri.replace("model.tar.gz", "output.tar.gz")) == {"sub/y": b"3 rows"}

    assert seen["hyperparameters"]["epochs"] == "3", "hyperparameters.json: the job's raw strings"
    assert seen["hyperparameters"]["sagemaker_program"] == '"train.py"'
    assert seen["resourceconfig"] == {
        "current_host": "algo-1", "current_instance_type": "ml.m5.large", "current_group_name": "homogeneousCluster",
        "hosts": ["algo-1"], "network_interface_name": "eth0",
        "instance_groups": [{"instance_group_name": "homogeneousCluster", "instance_type": "ml.m5.large",
                             "hosts": ["algo-1"]}]}
    assert seen["inputdataconfig"] == {"train": {"ContentType": "text/csv", "TrainingInputMode": "File",
                                                 "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}}
    assert seen["rows"] == 3
    assert (seen["uid"], seen["cwd"], seen["file"]) == (0, "/opt/ml/code", "/opt/ml/code/train.py")
    assert seen["opt_ml"] == ["code", "input", "model", "output"]
    assert seen["opt"] == sorted(host_opt + ["ml"]), "the rest of /opt is still there"
    env = seen["env"]
    assert {k: env[k] for k in ("SM_MODEL_DIR", "SM_CHANNEL_TRAIN", "SM_OUTPUT_DATA_DIR", "SM_OUTPUT_DIR", "SM_INPUT_DIR",
                                "SM_INPUT_CONFIG_DIR", "SM_OUTPUT_INTERMEDIATE_DIR")} == {
        "SM_MODEL_DIR": "/opt/ml/model", "SM_CHANNEL_TRAIN": "/opt/ml/input/data/train",
        "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data", "SM_OUTPUT_DIR": "/opt/ml/output", "SM_INPUT_DIR": "/opt/ml/input",
        "SM_INPUT_CONFIG_DIR": "/opt/ml/input/config", "SM_OUTPUT_INTERMEDIATE_DIR": "/opt/ml/output/intermediate"}
    assert env["SM_MODULE_DIR"].startswith("s3://") and env["SM_MODULE_DIR"].endswith("sourcedir.tar.gz")
    assert json.loads(env["SM_TRAINING_ENV"])["channel_input_dirs"] == {"train": "/opt/ml/input/data/train"}
    assert not any(FALLBACK in line for line in job_log(described["TrainingJobName"]))

    assert host_opt_ml() == before, "the machine's own /opt/ml is neither created nor touched"
    assert mounts_under_opt() == [], "nothing stays mounted outside the job's namespace"
    workdir = getattr(emulator, "workdir", None)
    if workdir is not None:
        assert not list(Path(workdir).rglob(f"{described['TrainingJobName']}-*")), "the job's directory is gone"


def test_the_xgboost_framework_estimator_runs_the_same_script_unchanged(session, train_data, tmp_path):
    from sagemaker.xgboost import XGBoost

    (tmp_path / "train.py").write_text(textwrap.dedent(WRITTEN_FOR_SAGEMAKER))
    job = XGBoost(entry_point="train.py", source_dir=str(tmp_path), framework_version="1.7-1",
                  role=os.environ["SAGEMAKER_ROLE_ARN"], instance_count=1, instance_type="ml.m5.large",
                  hyperparameters={"num_round": 2}, sagemaker_session=session,
                  output_path=f"s3://{session.default_bucket()}/{unique('opt-ml-xgb')}")
    job.fit({"train": train_data})
    model_uri = session.describe_training_job(job.latest_training_job.name)["ModelArtifacts"]["S3ModelArtifacts"]
    seen = json.loads(artifact(model_uri)["x"])
    assert (seen["rows"], seen["hyperparameters"]["num_round"], seen["env"]["SM_MODEL_DIR"]) == (3, "2", "/opt/ml/model")
    assert seen["inputdataconfig"]["train"]["TrainingInputMode"] == "File"


def test_a_failure_file_the_script_wrote_is_the_failure_reason(session, train_data, tmp_path):
    code = """
    import sys
    with open("/opt/ml/output/failure", "w") as f:
        f.write("bad data in row 7\\n" + "x" * 2000)
    sys.exit(1)
    """
    job = estimator(session, tmp_path / "src", code)
    with pytest.raises(UnexpectedStatusException, match="bad data in row 7"):
        job.fit({"train": train_data})
    reason = session.describe_training_job(job.latest_training_job.name)["FailureReason"]
    assert reason.startswith("AlgorithmError: ") and reason.endswith(", exit code: 1")
    assert max(map(len, re.findall("x+", reason))) == 1024 - len("bad data in row 7\n"), "its first 1024 characters"


def test_two_jobs_at_once_each_see_their_own_opt_ml(session, tmp_path):
    code = """
    import glob, json, os, time
    tag = json.loads(json.load(open("/opt/ml/input/config/hyperparameters.json"))["tag"])
    data = open(glob.glob("/opt/ml/input/data/train/*")[0]).read().strip()
    before = sorted(os.listdir("/opt/ml/model"))
    open("/opt/ml/model/tag.txt", "w").write(tag)
    started = time.time()
    time.sleep(2)
    seen = {"tag": tag, "data": data, "before": before, "after": sorted(os.listdir("/opt/ml/model")),
            "kept": open("/opt/ml/model/tag.txt").read(), "started": started, "ended": time.time()}
    open("/opt/ml/model/seen.json", "w").write(json.dumps(seen))
    """
    bucket, seen = session.default_bucket(), {}

    def fit(tag: str) -> None:
        prefix = unique(f"opt-ml-{tag}")
        client("s3").put_object(Bucket=bucket, Key=f"{prefix}/data.txt", Body=f"data of {tag}".encode())
        job = estimator(session, tmp_path / tag, code, hyperparameters={"tag": tag})
        job.fit({"train": f"s3://{bucket}/{prefix}"})
        uri = session.describe_training_job(job.latest_training_job.name)["ModelArtifacts"]["S3ModelArtifacts"]
        seen[tag] = json.loads(artifact(uri)["seen.json"])

    threads = [threading.Thread(target=fit, args=(tag,)) for tag in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(seen) == ["a", "b"]
    assert max(s["started"] for s in seen.values()) < min(s["ended"] for s in seen.values()), "they overlapped"
    for tag, job in seen.items():
        assert (job["tag"], job["data"], job["kept"]) == (tag, f"data of {tag}", tag)
        assert (job["before"], job["after"]) == ([], ["tag.txt"])


def test_each_host_of_a_multi_instance_job_has_its_own_model_and_output(session, train_data, tmp_path):
    code = """
    import json, os, time
    host = json.load(open("/opt/ml/input/config/resourceconfig.json"))["current_host"]
    before = sorted(os.listdir("/opt/ml/model"))
    for directory in ("/opt/ml/model", "/opt/ml/output/data"):
        open(f"{directory}/{host}.txt", "w").write(host)
    time.sleep(1)
    print("HOST " + json.dumps({"host": host, "env": os.environ["SM_CURRENT_HOST"], "before": before,
                                "after": sorted(os.listdir("/opt/ml/model")), "train": os.listdir("/opt/ml/input/data/train")}))
    """
    job = estimator(session, tmp_path / "src", code, instance_count=2)
    job.fit({"train": train_data})
    described = session.describe_training_job(job.latest_training_job.name)
    model_uri = described["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifact(model_uri) == {"algo-1.txt": b"algo-1"}, "model.tar.gz is algo-1's model directory"
    assert artifact(model_uri.replace("model.tar.gz", "output.tar.gz")) == {"algo-1.txt": b"algo-1"}
    views = {}
    for line in job_log(described["TrainingJobName"]):
        if "HOST " in line:
            prefix, view = line.split("HOST ", 1)
            views[prefix.strip()] = json.loads(view)
    assert sorted(views) == ["[algo-1]", "[algo-2]"]
    for prefix, view in views.items():
        host = prefix.strip("[]")
        assert (view["host"], view["env"], view["before"], view["after"]) == (host, host, [], [f"{host}.txt"])
        assert sorted(view["train"]) == ["a.csv", "b.csv"], "every host gets every file"


def test_where_opt_ml_is_refused_the_sm_variables_still_work_and_the_log_says_so(session, train_data, tmp_path):
    code = """
    import glob, json, os
    hps = json.load(open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], "hyperparameters.json")))
    rows = sum(1 for f in glob.glob(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "*")) for _ in open(f))
    seen = {"rows": rows, "epochs": hps["epochs"], "opt_ml": os.path.exists("/opt/ml"),
            "model_dir": os.environ["SM_MODEL_DIR"]}
    open(os.path.join(os.environ["SM_MODEL_DIR"], "x"), "w").write(json.dumps(seen))
    open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "y"), "w").write("y")
    """
    job = estimator(session, tmp_path / "src", code, hyperparameters={"epochs": 3},
                    environment={"LOCALAWS_SAGEMAKER_OPT_ML": "off"})
    job.fit({"train": train_data})
    described = session.describe_training_job(job.latest_training_job.name)
    model_uri = described["ModelArtifacts"]["S3ModelArtifacts"]
    seen = json.loads(artifact(model_uri)["x"])
    assert (seen["rows"], seen["epochs"], seen["opt_ml"]) == (3, "3", host_opt_ml() is not None)
    assert seen["model_dir"] != "/opt/ml/model"
    assert artifact(model_uri.replace("model.tar.gz", "output.tar.gz")) == {"y": b"y"}
    said = [line for line in job_log(described["TrainingJobName"]) if FALLBACK in line]
    assert len(said) == 1 and "(LOCALAWS_SAGEMAKER_OPT_ML=off)" in said[0] and "SM_MODEL_DIR" in said[0]


def test_a_stopped_script_and_what_it_started_end_with_their_namespace(session, train_data, tmp_path):
    code = """
    import os, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    print(f"PIDS {os.getpid()} {child.pid}", flush=True)
    time.sleep(300)
    """
    job = estimator(session, tmp_path / "src", code, max_run=4)
    job.fit({"train": train_data})
    described = session.describe_training_job(job.latest_training_job.name)
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")
    pids = [int(p) for line in job_log(described["TrainingJobName"]) if line.startswith("PIDS ")
            for p in line.split()[1:]]
    assert len(pids) == 2
    for pid in pids:  # gone, or a zombie waiting for init to reap it
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z", pid
    assert mounts_under_opt() == []


# ------------------------------------------------------------------ the launcher alone
LOOK_AROUND = ("import json, os; model = os.environ.get('SM_MODEL_DIR', '/opt/ml/model'); "
               "open(model + '/x', 'w').write('m'); print(json.dumps({'uid': os.getuid(), 'cwd': os.getcwd(), "
               "'data': os.listdir(os.environ.get('SM_CHANNEL_TRAIN', '/opt/ml/input/data/train')), 'dir': model}))")


def launch(job: Path, binds: list[list[str]], user: int | None = None) -> subprocess.CompletedProcess:
    stage = job / "hosts" / "algo-1" / "opt"
    for mount_point in ("code", "input", "model", "output"):
        (stage / "ml" / mount_point).mkdir(parents=True, exist_ok=True)
    spec = {"stage": str(stage), "binds": binds, "cwd": "/opt/ml/code", "fallback_message": script_mode.FALLBACK_LINE,
            "fallback_env": {"SM_MODEL_DIR": str(job / "model"), "SM_CHANNEL_TRAIN": str(job / "input/data/train")}}
    (job / "launch.json").write_text(json.dumps(spec))
    if user is not None:
        for path in [job, *job.rglob("*")]:
            os.chown(path, user, user)
    env = {k: v for k, v in os.environ.items() if k != "LOCALAWS_SAGEMAKER_OPT_ML"}
    return subprocess.run([sys.executable, "-I", "-S", str(script_mode.LAUNCHER), str(job / "launch.json"), "--",
                           sys.executable, "-c", LOOK_AROUND], cwd=job / "code", env=env, capture_output=True,
                          text=True, timeout=60, user=user, group=user, extra_groups=[] if user is not None else None)


@pytest.fixture
def job_dir():
    """A job directory any user can reach (pytest's tmp_path is root's own under /tmp)."""
    with tempfile.TemporaryDirectory(prefix="opt-ml-") as work:
        job = Path(work)
        os.chmod(job, 0o755)
        for directory in ("code", "input/data/train", "input/config", "model", "output/data"):
            (job / directory).mkdir(parents=True)
        (job / "input" / "data" / "train" / "t.csv").write_text("1\n")
        yield job


def all_of(job: Path) -> list[list[str]]:
    return [[str(job / d), d] for d in ("code", "input", "model", "output")]


def test_an_unprivileged_user_runs_the_script_as_root_of_its_own_namespace(job_dir):
    user = 65534 if os.geteuid() == 0 else None  # nobody: the user-namespace path, as most readers run it
    result = launch(job_dir, all_of(job_dir), user)
    assert result.returncode == 0, result.stderr
    if FALLBACK in result.stdout:
        pytest.skip(f"user namespaces are refused on this machine: {result.stdout.strip()}")
    seen = json.loads(result.stdout)
    assert seen == {"uid": 0, "cwd": "/opt/ml/code", "data": ["t.csv"], "dir": "/opt/ml/model"}
    written = job_dir / "model" / "x"
    assert written.read_text() == "m" and written.stat().st_uid == (user if user is not None else os.geteuid())
    assert mounts_under_opt() == [] and not (job_dir / "hosts" / "algo-1" / "opt" / "ml" / "model" / "x").exists()


def test_a_refused_step_falls_back_to_the_real_paths_with_one_line(job_dir):
    result = launch(job_dir, [[str(job_dir / "no-such-directory"), "code"]])
    assert result.returncode == 0, result.stderr
    said, shown = result.stdout.strip().splitlines()
    assert said.startswith(FALLBACK) and "no-such-directory" in said
    assert json.loads(shown) == {"uid": os.getuid(), "cwd": str(job_dir / "code"), "data": ["t.csv"],
                                 "dir": str(job_dir / "model")}
    assert (job_dir / "model" / "x").read_text() == "m"
    assert mounts_under_opt() == []
