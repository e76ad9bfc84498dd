"""Script mode: the user's own entry point, run as SageMaker's framework containers run it.

A framework estimator (`sagemaker.tensorflow.TensorFlow`, `sagemaker.xgboost.XGBoost`, …
with `entry_point=...`, `source_dir=...`) uploads the source as `sourcedir.tar.gz` and names
it in the hyperparameters `sagemaker_submit_directory` and `sagemaker_program`. Like the
SageMaker training toolkit (aws/sagemaker-training-toolkit, which these containers share),
we unpack it, then start the entry point with this virtualenv's Python, passing

- the user's hyperparameters as command-line arguments (`--epochs 10 --model_dir s3://…`),
- the toolkit's environment: SM_MODEL_DIR, SM_CHANNEL_<NAME>, SM_CHANNELS, SM_HPS,
  SM_OUTPUT_DATA_DIR, SM_CURRENT_HOST, SM_HOSTS, SM_NUM_CPUS, SM_NUM_GPUS, SM_TRAINING_ENV …
  (and TF_CONFIG for TensorFlow's multi-worker strategy, see tensorflow_script.py).

The script's stdout and stderr become the job's log, where the control plane applies the
job's MetricDefinitions. With InstanceCount > 1, one process per host runs at once, each
with its own SM_CURRENT_HOST (the "hosts" talk over 127.0.0.1); algo-1's model directory
becomes model.tar.gz. Differences, said plainly: the framework that runs is the one
installed here, whatever `framework_version` the job asked for; a `requirements.txt` in the
source is not installed (no downloads offline); there are no GPUs.
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
from pathlib import Path
from typing import Callable

from ...paths import inside
from ...protocol import AwsError
from .base import Channel, ClientError, Log, ProcessGroups, TrainingContext

TOOLKIT_PREFIX = "sagemaker_"
TAIL_LINES = 20
PROGRAM = "sagemaker_program"


def is_script_mode(raw_hyperparameters: dict | None) -> bool:
    """A framework estimator's job: it names the entry point among the hyperparameters."""
    return PROGRAM in (raw_hyperparameters or {})


class ExecuteUserScriptError(Exception):
    """The entry point exited with a non-zero code (the toolkit's name for it)."""


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


def host_environment(host: str, hosts: list[str], channels: dict[str, Channel], user_hps: dict,
                     model_dir: Path, output_dir: Path, code_dir: Path, context: TrainingContext,
                     tf_config: dict | None) -> dict[str, str]:
    """What the SageMaker training toolkit exports to the user's script on one host."""
    training_env = {
        "current_host": host, "hosts": hosts, "model_dir": str(model_dir),
        "output_data_dir": str(output_dir), "channel_input_dirs": {n: str(c.path) for n, c in channels.items()},
        "hyperparameters": user_hps, "job_name": context.job_name, "module_dir": str(code_dir),
        "num_cpus": os.cpu_count() or 1, "num_gpus": 0, "current_instance_type": context.instance_type,
    }
    env = {
        **os.environ, **(context.environment or {}),
        "SM_MODEL_DIR": str(model_dir), "SM_OUTPUT_DATA_DIR": str(output_dir),
        "SM_OUTPUT_DIR": str(output_dir.parent), "SM_INPUT_DIR": str(code_dir.parent / "input"), "SM_MODULE_DIR": str(code_dir), "SM_CURRENT_HOST": host,
        "SM_HOSTS": json.dumps(hosts), "SM_NUM_CPUS": str(training_env["num_cpus"]), "SM_NUM_GPUS": "0",
        "SM_CHANNELS": json.dumps(sorted(channels)), "SM_HPS": json.dumps(user_hps),
        "SM_USER_ARGS": json.dumps(cli_arguments(user_hps)), "SM_TRAINING_ENV": json.dumps(training_env),
        "SM_CURRENT_INSTANCE_TYPE": context.instance_type, "SM_LOG_LEVEL": "20",
        "PYTHONPATH": os.pathsep.join(p for p in (str(code_dir), os.environ.get("PYTHONPATH")) if p),
        "PYTHONUNBUFFERED": "1",
    }
    env.update({f"SM_CHANNEL_{name.upper()}": str(c.path) for name, c in channels.items()})
    env.update({f"SM_HP_{name.upper()}": json.dumps(v) if isinstance(v, (dict, list)) else str(v)
                for name, v in user_hps.items()})
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return env


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
    command = [sys.executable, str(script), *cli_arguments(user_hps)]
    log("[localaws] invoking: python " + " ".join([script.name, *command[2:]]))

    lock = threading.Lock()

    def locked_log(line: str) -> None:
        with lock:
            log(line)

    results: dict[str, tuple[int, list[str]]] = {}

    def run(index: int) -> None:
        host = hosts[index]
        host_model = model_dir if index == 0 else work / f"model-{host}"
        host_output = context.output_dir if (index == 0 and context.output_dir) else work / f"output-{host}"
        host_model.mkdir(parents=True, exist_ok=True)
        host_output.mkdir(parents=True, exist_ok=True)
        env = host_environment(host, hosts, channels, user_hps, host_model, host_output, code_dir,
                               context, host_tf_configs[index])
        results[host] = run_host(command, env, code_dir, locked_log, host, count > 1, context.stop_reason,
                                 context.processes)

    threads = [threading.Thread(target=run, args=(i,), name=f"{context.job_name}-{h}") for i, h in enumerate(hosts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    context.check_stop()  # ended by StopTrainingJob or MaxRuntimeInSeconds, not by a failure
    failed = {h: r for h, r in results.items() if r[0] != 0}
    if failed:
        host, (code, tail) = sorted(failed.items())[0]
        raise ExecuteUserScriptError(
            f"{script.name} exited with code {code} on {host}. Last output:\n" + "\n".join(tail))
    if not any(model_dir.iterdir()):
        log("[localaws] warning: the script saved nothing in SM_MODEL_DIR; model.tar.gz will be empty")
    return {}
