"""Script mode: the user's own entry point, run as SageMaker's framework containers run it.

A framework estimator (`sagemaker.tensorflow.TensorFlow`, `sagemaker.xgboost.XGBoost`, …
with `entry_point=...`, `source_dir=...`) uploads the source as `sourcedir.tar.gz` and names
it in the hyperparameters `sagemaker_submit_directory` and `sagemaker_program`. Like the
SageMaker training toolkit (aws/sagemaker-training-toolkit, which these containers share),
we unpack it to the job's `code` directory, then start the entry point with this
virtualenv's Python from there (`python train.py --epochs 10 …`), passing

- the user's hyperparameters as command-line arguments (`--epochs 10 --model_dir s3://…`),
- the toolkit's environment (its environment.py, `Environment.to_env_vars`): SM_MODEL_DIR,
  SM_CHANNEL_<NAME>, SM_CHANNELS, SM_HPS, SM_OUTPUT_DATA_DIR, SM_OUTPUT_DIR, SM_INPUT_DIR,
  SM_INPUT_CONFIG_DIR, SM_RESOURCE_CONFIG, SM_CURRENT_HOST, SM_HOSTS, SM_NUM_CPUS,
  SM_TRAINING_ENV … (and TF_CONFIG for TensorFlow's multi-worker strategy, see
  tensorflow_script.py),
- the files SageMaker writes into every training container's /opt/ml/input/config:
  hyperparameters.json (the job's HyperParameters, raw strings), resourceconfig.json and
  inputdataconfig.json.

/opt/ml. The job's directory is laid out as a container's /opt/ml (`code`,
`input/data/<channel>`, `input/config`, `model`, `output/data`), and the script sees it
under those names, so a script written for SageMaker runs unchanged: each host's process
starts through _opt_ml_launcher.py, which enters a private mount namespace (and, unless
the emulator runs as root, a user namespace in which the script is root, as in a
container), shows that host's tree at /opt/ml with the rest of /opt untouched, and execs
the script (about 18 ms per host). The SM_* variables then say /opt/ml/..., as the
toolkit's do. Nothing is mounted outside that namespace and it ends with the script: the
machine's own /opt/ml, if any, is neither created nor seen. Where namespaces are refused
(macOS, some containers), or with LOCALAWS_SAGEMAKER_OPT_ML=off (in localaws's environment
or the job's Environment), the SM_* variables point at the job's real directories instead
and the job log says so in one line per host. Callers whose directories are not laid out
that way (tests calling train() directly) get the real paths too.

The script's stdout and stderr become the job's log, where the control plane applies the
job's MetricDefinitions. If it exits non-zero after writing /opt/ml/output/failure, that
file's first 1024 characters are the job's FailureReason (SageMaker Developer Guide, "How
Amazon SageMaker Processes Training Output"; the toolkit's files.write_failure_file keeps
a failure file the script wrote). With InstanceCount > 1, one process per host runs at
once, each with its own SM_CURRENT_HOST and its own model, output and input/config
directories (the "hosts" talk over 127.0.0.1); algo-1's model directory becomes
model.tar.gz and its output/data output.tar.gz. Differences, said plainly: the framework
that runs is the one installed here, whatever `framework_version` the job asked for; a
`requirements.txt` in the source is not installed (no downloads offline); there are no
GPUs; Pipe mode and sharded channels are not emulated (every host gets every file).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ...paths import inside
from ...protocol import AwsError
from .base import Channel, ClientError, Log, ProcessGroups, TrainingContext

TOOLKIT_PREFIX = "sagemaker_"
TAIL_LINES = 20
PROGRAM = "sagemaker_program"
SUBMIT_DIRECTORY = "sagemaker_submit_directory"
LAUNCHER = Path(__file__).with_name("_opt_ml_launcher.py")
OPT_ML = "/opt/ml"
FAILURE_CHARACTERS = 1024  # "SageMaker returns the first 1024 characters from this file as FailureReason"
GROUP = "homogeneousCluster"  # the toolkit's name for the one instance group of a job without InstanceGroups
NETWORK_INTERFACE = "eth0"  # environment.py: "eth0 is the default network interface defined by SageMaker"
FALLBACK_LINE = ("[localaws] /opt/ml is not available offline on this machine ({reason}): the script runs with "
                 "SM_MODEL_DIR, SM_CHANNEL_<NAME>, SM_OUTPUT_DATA_DIR, SM_INPUT_CONFIG_DIR ... pointing at the "
                 "job's own directories; use the SM_* variables, not /opt/ml paths")


def is_script_mode(raw_hyperparameters: dict | None) -> bool:
    """A framework estimator's job: it names the entry point among the hyperparameters."""
    return PROGRAM in (raw_hyperparameters or {})


class ExecuteUserScriptError(Exception):
    """The entry point exited with a non-zero code (the toolkit's name for it).
    `failure_reason`: the job's FailureReason in SageMaker's words when the script wrote
    /opt/ml/output/failure ("AlgorithmError: <its text>, exit code: 1"), else None."""

    def __init__(self, message: str, failure_reason: str | None = None):
        super().__init__(message)
        self.failure_reason = failure_reason


def decode(raw: dict) -> dict:
    """The SDK JSON-encodes every hyperparameter value ('"tf_train.py"', '10'); the toolkit decodes."""
    decoded = {}
    for name, value in (raw or {}).items():
        try:
            decoded[name] = json.loads(value)
        except (TypeError, ValueError):
            decoded[name] = value
    return decoded


def cli_arguments(user_hps: dict) -> list[str]:
    """{'epochs': 10, 'layers': [2, 3]} -> ['--epochs', '10', '--layers', '[2, 3]'], as the toolkit does."""
    args = []
    for name, value in user_hps.items():
        text = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
        args += [f"--{name}", text]
    return args


def unpack_source(hps: dict, s3, dest: Path) -> Path:
    program, submit = hps.get("sagemaker_program"), hps.get("sagemaker_submit_directory")
    if not program:
        raise ClientError("hyperparameter sagemaker_program is missing: create the job with a framework "
                          "estimator and an entry point, e.g. sagemaker.tensorflow.TensorFlow(entry_point=...)")
    dest.mkdir(parents=True)
    if submit:
        if not str(submit).startswith("s3://"):
            raise ClientError(f"sagemaker_submit_directory must be an s3:// URI, got {submit!r}")
        archive = dest.parent / "sourcedir.tar.gz"
        archive.write_bytes(s3.read(submit))
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")
    try:  # only code uploaded as the job's source runs: no absolute or ../ entry points
        script = inside(dest, program, "sagemaker_program")
    except AwsError as err:
        raise ClientError(err.message) from None
    if not script.is_file():
        raise ClientError(f"entry point {program!r} is not in the source directory "
                          f"({sorted(p.name for p in dest.iterdir())})")
    return script


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class HostPaths:
    """One host's directories by the toolkit's names (environment.py: code_dir, input_dir,
    input_config_dir, model_dir, output_dir, output_data_dir, channel_input_dirs): either
    what the script sees in the container (/opt/ml/...) or where they are in the job's
    directory."""
    code: str
    input: str
    input_config: str
    model: str
    output: str
    output_data: str
    channels: dict[str, str]

    @classmethod
    def container(cls, channels: dict[str, Channel]) -> HostPaths:
        return cls(f"{OPT_ML}/code", f"{OPT_ML}/input", f"{OPT_ML}/input/config", f"{OPT_ML}/model",
                   f"{OPT_ML}/output", f"{OPT_ML}/output/data", {n: f"{OPT_ML}/input/data/{n}" for n in channels})

    @classmethod
    def real(cls, work: Path, index: int, host: str, model_dir: Path, output_data: Path,
             channels: dict[str, Channel]) -> HostPaths:
        """algo-1's are the job's (its model.tar.gz, output.tar.gz); every other host has its own."""
        if index == 0:
            model, data, config = model_dir, output_data, work / "input" / "config"
        else:
            own = work / "hosts" / host
            model, data, config = own / "model", own / "output" / "data", own / "config"
        return cls(str(work / "code"), str(work / "input"), str(config), str(model), str(data.parent), str(data),
                   {n: str(c.path) for n, c in channels.items()})

    @property
    def output_intermediate(self) -> str:
        return f"{self.output}/intermediate"


def laid_out_as_opt_ml(work: Path, model_dir: Path, output_data: Path, channels: dict[str, Channel]) -> bool:
    """Is the job's directory a container's /opt/ml (training_jobs.py's layout)? Only then
    is it shown at /opt/ml."""
    def same(a: Path, b: Path) -> bool:
        return os.path.realpath(a) == os.path.realpath(b)

    return (same(model_dir, work / "model") and same(output_data, work / "output" / "data")
            and all(same(c.path, work / "input" / "data" / name) for name, c in channels.items()))


def resource_config(host: str, hosts: list[str], instance_type: str) -> dict:
    """/opt/ml/input/config/resourceconfig.json, with the fields the toolkit reads
    (environment.py, read_resource_config and Environment.__init__)."""
    return {"current_host": host, "current_instance_type": instance_type, "current_group_name": GROUP,
            "hosts": hosts, "instance_groups": [{"instance_group_name": GROUP, "instance_type": instance_type,
                                                 "hosts": hosts}],
            "network_interface_name": NETWORK_INTERFACE}


def input_data_config(channels: dict[str, Channel]) -> dict:
    """/opt/ml/input/config/inputdataconfig.json (SageMaker Developer Guide, "How Amazon
    SageMaker Provides Training Information"): File mode, every file on every host."""
    config = {}
    for name, channel in channels.items():
        entry = {"ContentType": channel.content_type} if channel.content_type else {}
        config[name] = {**entry, "TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
                        "RecordWrapperType": "None"}
    return config


def write_config(directory: Path, raw_hyperparameters: dict, resources: dict, inputs: dict) -> None:
    """The files SageMaker writes into every training container's /opt/ml/input/config."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in (("hyperparameters.json", raw_hyperparameters), ("resourceconfig.json", resources),
                          ("inputdataconfig.json", inputs)):
        (directory / name).write_text(json.dumps(content))


def host_environment(host: str, hosts: list[str], paths: HostPaths, hps: dict, user_hps: dict,
                     context: TrainingContext, program: str, resources: dict, inputs: dict,
                     tf_config: dict | None) -> dict[str, str]:
    """What the SageMaker training toolkit exports to the user's script on one host
    (environment.py, Environment.to_env_vars), with `paths` for its directories."""
    module_dir = str(hps.get(SUBMIT_DIRECTORY) or paths.code)  # the toolkit's module_dir: the S3 URI
    module_name = program.removesuffix(".py")
    training_env = {
        "current_host": host, "hosts": hosts, "model_dir": paths.model, "output_data_dir": paths.output_data,
        "channel_input_dirs": paths.channels, "hyperparameters": user_hps, "job_name": context.job_name,
        "module_dir": module_dir, "module_name": module_name, "user_entry_point": program,
        "num_cpus": os.cpu_count() or 1, "num_gpus": 0, "current_instance_type": context.instance_type,
        "current_instance_group": GROUP, "input_dir": paths.input, "input_config_dir": paths.input_config,
        "output_dir": paths.output, "output_intermediate_dir": paths.output_intermediate,
        "resource_config": resources, "input_data_config": inputs, "network_interface_name": NETWORK_INTERFACE,
        "master_hostname": hosts[0], "is_master": host == hosts[0],
    }
    env = {
        **os.environ, **(context.environment or {}),
        "SM_MODEL_DIR": paths.model, "SM_OUTPUT_DATA_DIR": paths.output_data, "SM_OUTPUT_DIR": paths.output,
        "SM_OUTPUT_INTERMEDIATE_DIR": paths.output_intermediate, "SM_INPUT_DIR": paths.input,
        "SM_INPUT_CONFIG_DIR": paths.input_config, "SM_MODULE_DIR": module_dir, "SM_MODULE_NAME": module_name,
        "SM_USER_ENTRY_POINT": program, "SM_CURRENT_HOST": host,
        "SM_HOSTS": json.dumps(hosts), "SM_NUM_CPUS": str(training_env["num_cpus"]), "SM_NUM_GPUS": "0",
        "SM_CHANNELS": json.dumps(sorted(paths.channels)), "SM_HPS": json.dumps(user_hps),
        "SM_USER_ARGS": json.dumps(cli_arguments(user_hps)), "SM_TRAINING_ENV": json.dumps(training_env),
        "SM_RESOURCE_CONFIG": json.dumps(resources), "SM_INPUT_DATA_CONFIG": json.dumps(inputs),
        "SM_NETWORK_INTERFACE_NAME": NETWORK_INTERFACE, "SM_CURRENT_INSTANCE_GROUP": GROUP,
        "SM_CURRENT_INSTANCE_TYPE": context.instance_type, "SM_LOG_LEVEL": "20",
        "TRAINING_JOB_NAME": context.job_name,  # set in every training container (the Developer Guide)
        "PYTHONPATH": os.pathsep.join(p for p in (paths.code, os.environ.get("PYTHONPATH")) if p),
        "PYTHONUNBUFFERED": "1",
    }
    env.update({f"SM_CHANNEL_{name.upper()}": path for name, path in paths.channels.items()})
    env.update({f"SM_HP_{name.upper()}": json.dumps(v) if isinstance(v, (dict, list)) else str(v)
                for name, v in user_hps.items()})
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return env


def launch_through_namespace(work: Path, host: str, real: HostPaths, container_env: dict, real_env: dict,
                             command: list[str]) -> list[str]:
    """The command that runs `command` with `real` shown at /opt/ml (see _opt_ml_launcher.py),
    or, where that is refused, with `real_env`'s paths and the FALLBACK_LINE in the log."""
    own = work / "hosts" / host
    tree = own / "opt" / "ml"
    for mount_point in ("code", "input", "model", "output"):
        (tree / mount_point).mkdir(parents=True, exist_ok=True)
    binds = [[real.code, "code"], [real.input, "input"]]
    if real.input_config != str(work / "input" / "config"):
        binds.append([real.input_config, "input/config"])  # another host's own, over algo-1's
    binds += [[real.model, "model"], [real.output, "output"]]
    spec = {"stage": str(own / "opt"), "binds": binds, "cwd": f"{OPT_ML}/code", "fallback_message": FALLBACK_LINE,
            "fallback_env": {k: v for k, v in real_env.items() if container_env.get(k) != v}}
    (own / "launch.json").write_text(json.dumps(spec))
    return [sys.executable, "-I", "-S", str(LAUNCHER), str(own / "launch.json"), "--", *command]


def written_failure(paths: HostPaths) -> str | None:
    """What the script wrote to /opt/ml/output/failure, as SageMaker reports it (its first
    1024 characters), or None."""
    try:
        text = Path(paths.output, "failure").read_text(errors="replace")
    except OSError:
        return None
    return text[:FAILURE_CHARACTERS] if text.strip() else None


GRACE_SECONDS = 2  # SIGTERM, then SIGKILL this much later (AWS waits 120 s; offline runs are short)


def run_host(command: list[str], env: dict, cwd: Path, log: Log, host: str, multi: bool,
             stop_reason=lambda: None, processes: ProcessGroups | None = None) -> tuple[int, list[str]]:
    """Run the script on one "host", copying its output into the log line by line; end the
    process (SIGTERM, then SIGKILL) as soon as `stop_reason()` names a reason."""
    tail: list[str] = []
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, errors="replace", start_new_session=True)
    processes = processes or ProcessGroups()
    processes.add(process.pid)  # its own session: the group id is its pid

    def signal_group(signum: int) -> None:  # the script and whatever it started
        processes.signal(process.pid, signum)

    def watch() -> None:
        while process.poll() is None:
            if stop_reason():
                signal_group(signal.SIGTERM)
                try:
                    process.wait(GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    pass
                signal_group(signal.SIGKILL)  # also children that outlived it and hold its output open
                return
            time.sleep(0.1)

    threading.Thread(target=watch, name=f"stop-watch-{host}", daemon=True).start()
    for line in process.stdout:
        line = line.rstrip("\n")
        log(f"[{host}] {line}" if multi else line)
        tail = (tail + [line])[-TAIL_LINES:]
    code = process.wait()
    signal_group(signal.SIGKILL)  # children that outlived the script
    processes.discard(process.pid)
    return code, tail


def run(channels: dict[str, Channel], hp: dict, model_dir: Path, log: Log, context: TrainingContext | None,
        framework: str, tf_configs: Callable[[dict, int], list[dict | None]] | None = None,
        check: Callable[[dict], None] | None = None) -> dict[str, float]:
    """Run the job's entry point on each of its hosts. `framework` names what runs it in the
    log ("TensorFlow 2.18.0"), `check(hps)` refuses what the container's toolkit would not
    run here, and `tf_configs(hps, count)` gives each host's TF_CONFIG (or None)."""
    context = context or TrainingContext("local-job")
    if context.s3 is None:
        raise ClientError("script mode needs S3 to fetch the source code")
    hps = decode(hp)
    if check:
        check(hps)
    user_hps = {k: v for k, v in hps.items() if not k.startswith(TOOLKIT_PREFIX)}
    work = model_dir.parent
    code_dir = work / "code"
    script = unpack_source(hps, context.s3, code_dir)
    if (code_dir / "requirements.txt").exists():
        log("[localaws] requirements.txt found: not installed offline (the packages of this "
            "virtualenv are used)")
    log(f"[localaws] script mode: running {script.name} with Python {sys.version.split()[0]} and the "
        f"installed {framework}, whatever framework_version the job asked for")

    count = max(1, int(context.instance_count or 1))
    hosts = [f"algo-{i + 1}" for i in range(count)]
    host_tf_configs = tf_configs(hps, count) if tf_configs else [None] * count
    program = script.relative_to(os.path.realpath(code_dir)).as_posix()
    command = [sys.executable, program, *cli_arguments(user_hps)]  # from the code directory, as the toolkit does
    log("[localaws] invoking: python " + " ".join(command[1:]))
    output_data = context.output_dir or work / "output" / "data"
    as_opt_ml = laid_out_as_opt_ml(work, model_dir, output_data, channels)
    if as_opt_ml:
        (work / "input" / "data").mkdir(parents=True, exist_ok=True)  # there even without channels
    inputs = input_data_config(channels)

    def prepare(index: int) -> tuple[list[str], dict, HostPaths]:
        host = hosts[index]
        real = HostPaths.real(work, index, host, model_dir, output_data, channels)
        for directory in (real.model, real.output_data):
            Path(directory).mkdir(parents=True, exist_ok=True)
        resources = resource_config(host, hosts, context.instance_type)
        write_config(Path(real.input_config), dict(hp or {}), resources, inputs)

        def environment(paths: HostPaths) -> dict[str, str]:
            return host_environment(host, hosts, paths, hps, user_hps, context, program, resources, inputs,
                                    host_tf_configs[index])

        if not as_opt_ml:
            return command, environment(real), real
        container_env = environment(HostPaths.container(channels))
        return (launch_through_namespace(work, host, real, container_env, environment(real), command),
                container_env, real)

    prepared = [prepare(i) for i in range(count)]  # algo-1's input/config first: the others bind over it
    lock = threading.Lock()

    def locked_log(line: str) -> None:
        with lock:
            log(line)

    results: dict[str, tuple[int, list[str]]] = {}

    def run(index: int) -> None:
        host_command, env, _ = prepared[index]
        results[hosts[index]] = run_host(host_command, env, code_dir, locked_log, hosts[index], count > 1,
                                         context.stop_reason, context.processes)

    threads = [threading.Thread(target=run, args=(i,), name=f"{context.job_name}-{h}") for i, h in enumerate(hosts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    context.check_stop()  # ended by StopTrainingJob or MaxRuntimeInSeconds, not by a failure
    failed = {h: r for h, r in results.items() if r[0] != 0}
    if failed:
        host, (code, tail) = min(failed.items())
        written = written_failure(prepared[hosts.index(host)][2])
        if written is not None:  # the script's own words, as SageMaker reports them
            raise ExecuteUserScriptError(f"{written}, exit code: {code}",
                                         failure_reason=f"AlgorithmError: {written}, exit code: {code}")
        raise ExecuteUserScriptError(
            f"{script.name} exited with code {code} on {host}. Last output:\n" + "\n".join(tail))
    if not any(model_dir.iterdir()):
        log("[localaws] warning: the script saved nothing in SM_MODEL_DIR; model.tar.gz will be empty")
    return {}
