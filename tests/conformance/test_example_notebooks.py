"""aws/amazon-sagemaker-examples' own notebooks, run unchanged against localaws (issue 18).

Each notebook under examples/ is upstream's file byte for byte at the pinned commit
(examples/README.md; the first test checks the bytes). Nothing in it is edited: what it
downloads from AWS's public sample buckets is put at the same bucket and key in this
worker's emulator before the kernel starts (data/generators/conformance_standins.py; each
object is listed in data/README.md), its `pip install -U sagemaker` cell finds no index and
changes nothing, and it runs with papermill in the project's kernel as the course's reader
role, as `make run` runs a chapter (tools/run_notebooks.run_one). papermill fails a cell on
the kernel's execute_reply status, which is 'error' even when sagemaker-core's rich
traceback prints the exception as ordinary output (the same signal the root conftest.py
adds to nbval); tools.run_notebooks.notebook_error reads the exception from that box.

Upstream's clean-up cells delete the endpoints but not always the models and endpoint
configurations; each Example's `leaves` documents what it leaves, the test checks exactly that
was left, then deletes it, so the leftover checks of the tests that follow stay meaningful.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import client
from tools.run_notebooks import last_error, notebook_error

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = Path(__file__).resolve().parent / "examples"
STANDINS = ROOT / "data" / "samples" / "conformance_standins"
UPSTREAM = "https://github.com/aws/amazon-sagemaker-examples"
COMMIT = "f2f9985b931eba4bcfb9327fc3c8f522b330b5c0"  # 2024-06-19, the last with introduction_to_amazon_algorithms/
DATA_CONFIG = ("example-notebooks-data-config", "config/data_config.json")  # what S3DataConfig reads

# upstream path -> git blob id at COMMIT (`git ls-tree COMMIT <path>` in a clone of UPSTREAM)
VENDORED = {
    "LICENSE.txt": "6ff2c6fd00fec5b2196ff87c95d5c3ecb6185bcd",
    "NOTICE": "b008cb51264aa85d47219beab5e414afb17333cc",
    "introduction_to_amazon_algorithms/linear_learner_abalone/Linear_Learner_Regression_csv_format.ipynb":
        "71a5aaf94d59903fea0e5c7405e798cea860d2cd",
    "introduction_to_amazon_algorithms/xgboost_abalone/xgboost_abalone.ipynb":
        "cf4ea1e1a97dbe1935f35ef80b547d84d6909000",
    "introduction_to_amazon_algorithms/factorization_machines_mnist/factorization_machines_mnist.ipynb":
        "bfd10819e16176a938919d8c3c180bee8aa9d0f3",
    "sagemaker-python-sdk/1P_kmeans_highlevel/kmeans_mnist.ipynb": "1a074cccfc0ed1ec60e36a6289640bf14edff7ab",
}

@dataclass(frozen=True)
class Example:
    path: str            # under examples/, as upstream has it
    leaves: dict         # what upstream's clean-up leaves: kind (as the emulator's leftovers name it) -> count
    checks: tuple = ()   # (regex on the executed notebook's text outputs, test of its groups) pairs
    grants: dict = field(default_factory=dict)  # an inline policy the reader role needs beyond the course's
    defect: str = ""     # a localaws defect this notebook runs into (the test is a strict xfail)

    @property
    def name(self) -> str:
        return Path(self.path).stem


def _close(tolerance: float):
    return lambda actual, predicted: abs(float(actual) - float(predicted)) <= tolerance


def _below(limit: float):
    return lambda value: float(value) < limit


EXAMPLES_RUN = [
    # linear-learner, text/csv, Estimator + HyperparameterTuner (6 jobs) + tuner.deploy,
    # CSVSerializer/JSONDeserializer; appendix: libsvm -> csv, split, upload. Deletes the
    # endpoint with Session.delete_endpoint, which keeps its configuration and model.
    Example("introduction_to_amazon_algorithms/linear_learner_abalone/Linear_Learner_Regression_csv_format.ipynb",
            leaves={"models": 1, "endpoint configs": 1},
            checks=((r"validation mse <score>=([\d.]+)", _below(0.6 * 10.7)),  # the stand-in's rings vary by 10.7
                    (r"Actual age: (\d+)\s+Prediction: ([\d.]+)", _close(10.0)))),  # one random test row
    # xgboost 1.7-1, libsvm, the low-level boto3 API only: CreateTrainingJob, a Bayesian
    # CreateHyperParameterTuningJob, CreateModel/EndpointConfig/Endpoint polled with
    # time.sleep(60) until done (jobs finish within Create*, so it never sleeps), InvokeEndpoint
    # with text/x-libsvm. Deletes only the endpoint.
    Example("introduction_to_amazon_algorithms/xgboost_abalone/xgboost_abalone.ipynb",
            leaves={"models": 1, "endpoint configs": 1},
            checks=((r"5 and 6 minutes to complete\.\s+(\w+)\s", lambda status: status == "Completed"),
                    (r"12 and 17 minutes to complete\.\s+(\w+)\s", lambda status: status == "Completed"),
                    (r"9 and 11 minutes to complete\.\s+\S+\s+(\S+)", lambda shown: shown == "Arn:"),  # not "Status:"
                    (r"Median Absolute Percent Error \(MdAPE\) =\s+([\d.]+)", _below(0.3)))),
    # factorization-machines, dense recordIO-protobuf written with sagemaker.amazon.common,
    # the deprecated get_image_uri, generic Estimator, a custom JSON serializer. Deletes only
    # the endpoint (Session.delete_endpoint). Its one epoch over 500 stand-in rows is 3
    # mini-batches, too few to find the zeros (it does on full-size data): the check is the
    # answer's form, a score and the label that score gives.
    Example("introduction_to_amazon_algorithms/factorization_machines_mnist/factorization_machines_mnist.ipynb",
            leaves={"models": 1, "endpoint configs": 1},
            checks=((r"\{'score': ([\d.e-]+), 'predicted_label': ([01])\.0\}",
                     lambda score, label: 0 <= float(score) <= 1 and int(label) == (float(score) > 0.5)),)),
    # kmeans with the SDK's KMeans class: record_set, two instances, the default recordIO
    # predictor. Reads its data bucket's name from s3://example-notebooks-data-config, which
    # AmazonSageMakerFullAccess does not allow (test_kmeans_mnist_without_the_grant_...): the
    # reader role gets s3:GetObject on that one object for this run. Predictor.delete_endpoint
    # also deletes the configuration; the model stays.
    Example("sagemaker-python-sdk/1P_kmeans_highlevel/kmeans_mnist.ipynb",
            leaves={"models": 1},
            checks=((r'"closest_cluster".*?values: ([\d.]+)', lambda cluster: 0 <= float(cluster) < 10),),
            grants={"Version": "2012-10-17", "Statement": [{
                "Sid": "ReadTheExamplesDataConfig", "Effect": "Allow", "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{DATA_CONFIG[0]}/{DATA_CONFIG[1]}"}]}),
]


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_the_vendored_files_are_upstreams_bytes():
    found = {p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*") if p.is_file() and p.name != "README.md"}
    assert found == set(VENDORED), "examples/ holds exactly the vendored files (and README.md)"
    for path, blob in VENDORED.items():
        assert git_blob_id((EXAMPLES / path).read_bytes()) == blob, f"{path} differs from upstream {COMMIT[:8]}"
    readme = (EXAMPLES / "README.md").read_text()
    assert f"{UPSTREAM}/blob/{COMMIT}" in readme
    assert all(path in readme and blob in readme for path, blob in VENDORED.items())
    assert {e.path for e in EXAMPLES_RUN} <= set(VENDORED)


def standin_objects() -> dict[tuple[str, str], Path]:
    return {(p.relative_to(STANDINS).parts[0], "/".join(p.relative_to(STANDINS).parts[1:])): p
            for p in sorted(STANDINS.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def standins(emulator):
    """Every stand-in object at its bucket and key, put there as the buckets' owner would."""
    s3 = client("s3")
    objects = standin_objects()
    for bucket in sorted({b for b, _ in objects}):
        s3.create_bucket(Bucket=bucket)
    for (bucket, key), path in objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    return objects


def pip_offline(folder: Path) -> dict[str, str]:
    """The notebooks' `pip install -U sagemaker` cells must not change the project's venv:
    no index, no links (an empty folder), and a dry run whatever pip finds."""
    empty = folder / "no-wheels"
    empty.mkdir(exist_ok=True)
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(empty), "PIP_DRY_RUN": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


@dataclass
class Run:
    seconds: float
    error: str | None
    executed: Path

    def outputs(self) -> str:
        """The executed notebook's printed and displayed text."""
        if not self.executed.exists():
            return ""
        text = []
        for cell in json.loads(self.executed.read_text()).get("cells", []):
            for output in cell.get("outputs", []):
                text.append("".join(output.get("text", "")))
                text.append("".join((output.get("data") or {}).get("text/plain", "")))
        return "\n".join(text)


def run_unchanged(notebook: Path, folder: Path, env: dict[str, str]) -> Run:
    """papermill, as tools.run_notebooks.run_one runs a notebook, but in a scratch folder
    (upstream notebooks write their downloads to the current directory) and with no
    parameters (upstream notebooks have no parameters cell: nothing is injected)."""
    work = folder / "work"
    work.mkdir()
    source, executed, log = work / notebook.name, folder / f"executed-{notebook.name}", folder / "papermill.log"
    shutil.copyfile(notebook, source)
    started = time.time()
    with log.open("w") as log_file:
        status = subprocess.run([sys.executable, "-m", "papermill", str(source), str(executed), "--cwd", str(work),
                                 "-k", "python3", "--no-progress-bar", "--execution-timeout", "300"],
                                stdout=log_file, stderr=subprocess.STDOUT, env=env, timeout=900).returncode
    seconds = round(time.time() - started, 1)
    error = None
    if status:
        error = f"{notebook_error(executed) or last_error(log)} (executed copy: {executed})"
    return Run(seconds, error, executed)


def leftovers(emulator) -> dict[str, list[str]]:
    """What is up in the emulator (tools.run_notebooks.leftovers also resets; this only looks)."""
    from localaws.services import admin

    return admin(emulator.url, "leftovers", timeout=30)


def left_by(before: dict, after: dict) -> dict[str, list[str]]:
    return {kind: sorted(set(names) - set(before.get(kind, []))) for kind, names in after.items()
            if set(names) - set(before.get(kind, []))}


def delete(left: dict[str, list[str]]) -> None:
    """What the notebook left, deleted through the API as its reader would (endpoints first)."""
    sm = client("sagemaker")
    for name in left.get("endpoints", []):
        sm.delete_endpoint(EndpointName=name)
    for name in left.get("endpoint configs", []):
        sm.delete_endpoint_config(EndpointConfigName=name)
    for name in left.get("models", []):
        sm.delete_model(ModelName=name)


class RoleGrant:
    """An inline policy on the reader's role for one run, removed afterwards."""

    NAME = "conformance-example-notebook"

    def __init__(self, env: dict[str, str], document: dict):
        self.role = env["SAGEMAKER_ROLE_ARN"].rsplit("/", 1)[-1]
        self.document = document

    def __enter__(self):
        if self.document:
            client("iam").put_role_policy(RoleName=self.role, PolicyName=self.NAME,
                                          PolicyDocument=json.dumps(self.document))
        return self

    def __exit__(self, *exc):
        if self.document:
            client("iam").delete_role_policy(RoleName=self.role, PolicyName=self.NAME)


def test_kmeans_mnist_without_the_grant_stops_at_the_denial_aws_would_give(emulator, standins, tmp_path):
    """Why kmeans_mnist.ipynb runs with a grant, and that the harness sees a failing cell: the
    AccessDenied comes after `import sagemaker`, so sagemaker-core's rich traceback prints it as
    ordinary output, and the run must still fail with the denial as its error."""
    if getattr(emulator, "iam_mode", "off") != "enforce":
        pytest.skip("IAM is not enforced by this emulator")
    example = next(e for e in EXAMPLES_RUN if e.grants)
    before = leftovers(emulator)
    run = run_unchanged(EXAMPLES / example.path, tmp_path, {**os.environ, **emulator.env, **pip_offline(tmp_path)})
    assert run.error, "kmeans_mnist.ipynb read the data config without s3:GetObject on it"
    assert "AccessDenied" in run.error and f"s3:GetObject on resource: arn:aws:s3:::{'/'.join(DATA_CONFIG)}" in \
        " ".join(run.error.split()), run.error
    assert leftovers(emulator) == before


def _params():
    return [pytest.param(e, id=e.name, marks=[pytest.mark.xfail(strict=True, reason=e.defect)] if e.defect else [])
            for e in EXAMPLES_RUN]


@pytest.mark.parametrize("example", _params())
def test_the_example_notebook_runs_unchanged(example, emulator, standins, tmp_path, record_property):
    from importlib.metadata import version

    env = {**os.environ, **emulator.env, **pip_offline(tmp_path)}
    sdk = version("sagemaker")
    before = leftovers(emulator)
    try:
        with RoleGrant(env, example.grants):
            run = run_unchanged(EXAMPLES / example.path, tmp_path, env)
    finally:
        left = left_by(before, leftovers(emulator))
        delete(left)
    record_property("notebook_seconds", run.seconds)
    record_property("notebook", f"{example.path} (upstream, unchanged)")
    assert version("sagemaker") == sdk, "the notebook's pip cell changed the project's venv"
    assert not run.error, f"{example.path} failed after {run.seconds} s: {run.error}"
    assert {kind: len(names) for kind, names in left.items()} == example.leaves, \
        f"{example.name} left {left}, upstream's clean-up leaves {example.leaves}"
    assert leftovers(emulator) == before
    text = run.outputs()
    for pattern, check in example.checks:
        found = re.search(pattern, text, re.S)
        assert found and check(*found.groups()), f"{example.name}: {pattern!r} -> {found and found.groups()}"
