"""`python -m localaws run` and `serve` as a user starts them, in real processes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOCALAWS_", "SAGEMAKER_"))}
PROBE = ("import boto3, os; s3 = boto3.client('s3'); s3.create_bucket(Bucket='cli-probe'); "
         "print(os.environ['AWS_ENDPOINT_URL_SAGEMAKER']); "
         "print([b['Name'] for b in s3.list_buckets()['Buckets']]); raise SystemExit(3)")


def test_run_exports_the_environment_and_returns_the_commands_exit_code():
    done = subprocess.run([sys.executable, "-m", "localaws", "run", "--", sys.executable, "-c", PROBE],
                          env=CLEAN_ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    endpoint, buckets = done.stdout.strip().splitlines()[-2:]
    assert endpoint.startswith("http://127.0.0.1:") and "cli-probe" in buckets


def test_run_without_a_command_explains_how_to_use_it():
    done = subprocess.run([sys.executable, "-m", "localaws", "run"], env=CLEAN_ENV,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "give a command" in done.stderr


def start_serve(*options, ignore_sigint=False):
    """`localaws serve` as a user or a job runner starts it; with `ignore_sigint`, as a process
    that inherited SIGINT ignored (what made this test hang once in CI)."""
    ignore = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
    return subprocess.Popen([sys.executable, "-m", "localaws", "serve", *options], env=CLEAN_ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ignore)


def read_until_ready(process, seconds=120) -> dict:
    lines, deadline = [], time.time() + seconds
    while time.time() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "Ctrl-C" in line or not line:
            break
    return dict(line[len("export "):].strip().split("=", 1) for line in lines if line.startswith("export "))


def stop_within(process, signum, seconds=10) -> tuple[str, str]:
    process.send_signal(signum)
    try:
        return process.communicate(timeout=seconds)
    finally:
        if process.poll() is None:  # never leave it running, whatever the assertion says
            process.kill()
            process.communicate()


def test_serve_prints_its_environment_and_stops_cleanly_on_ctrl_c():
    process = start_serve("--port", "0", "--moto-port", "0")
    try:
        exports = read_until_ready(process)
        probe = subprocess.run([sys.executable, "-c", "import boto3; boto3.client('sagemaker').list_endpoints()"],
                               env={**CLEAN_ENV, **exports}, capture_output=True, text=True, timeout=60)
    finally:
        out, _ = stop_within(process, signal.SIGINT)
    assert probe.returncode == 0, probe.stderr
    assert "AWS_ENDPOINT_URL_SAGEMAKER" in exports and process.returncode == 0 and "localaws stopped" in out


def test_serve_stops_on_sigint_even_when_started_with_sigint_ignored():
    process = start_serve("--port", "0", "--moto-port", "0", ignore_sigint=True)
    read_until_ready(process)
    out, _ = stop_within(process, signal.SIGINT)
    assert process.returncode == 0 and "localaws stopped" in out


LOAD = """
import io, json, os, sys, tarfile, threading, time, uuid
import boto3
sm, s3 = boto3.client("sagemaker"), boto3.client("s3")
bucket = f"sagemaker-load-{uuid.uuid4().hex[:8]}"
s3.create_bucket(Bucket=bucket)
s3.put_object(Bucket=bucket, Key="train/data.csv", Body="".join(f"{i % 7},{i},{i * 2}\\n" for i in range(300)))
script = b"import json, os, time\\nopen(json.loads(os.environ['SM_HPS'])['pidfile'], 'w').write(str(os.getpid()))\\ntime.sleep(120)\\n"
archive = io.BytesIO()
with tarfile.open(fileobj=archive, mode="w:gz") as tar:
    info = tarfile.TarInfo("train.py"); info.size = len(script); tar.addfile(info, io.BytesIO(script))
s3.put_object(Bucket=bucket, Key="code/sourcedir.tar.gz", Body=archive.getvalue())
def job(name, image, hps):
    return dict(TrainingJobName=name, AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
                RoleArn=os.environ["SAGEMAKER_ROLE_ARN"], HyperParameters=hps,
                InputDataConfig=[{"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {
                    "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/train/"}}}],
                OutputDataConfig={"S3OutputPath": f"s3://{bucket}/out"},
                ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
                StoppingCondition={"MaxRuntimeInSeconds": 3600})
jobs = [job("load-xgboost", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
            {"num_round": "1000000", "objective": "reg:squarederror"}),
        job("load-script", "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:2.18-cpu-py310",
            {"sagemaker_program": '"train.py"', "sagemaker_submit_directory": f'"s3://{bucket}/code/sourcedir.tar.gz"',
             "pidfile": json.dumps(sys.argv[1])})]
for request in jobs:
    threading.Thread(target=sm.create_training_job, kwargs=request, daemon=True).start()
deadline = time.time() + 90
while time.time() < deadline and not (os.path.exists(sys.argv[1]) and all(
        sm.describe_training_job(TrainingJobName=r["TrainingJobName"])["SecondaryStatus"] == "Training" for r in jobs)):
    time.sleep(0.3)
print("loaded", flush=True)
"""


def test_serve_stops_within_3_seconds_under_load_and_leaves_no_job_running(tmp_path):
    """The safety issue: SIGINT/SIGTERM stop `serve` within 3 s while jobs run (an endless
    XGBoost job and a script-mode process), and the script's process does not outlive it."""
    import pathlib

    for signum in (signal.SIGTERM, signal.SIGINT):
        pidfile = tmp_path / f"script-{signum}.pid"
        process = start_serve("--port", "0", "--moto-port", "0")
        try:
            exports = read_until_ready(process)
            load = subprocess.run([sys.executable, "-c", LOAD, str(pidfile)], env={**CLEAN_ENV, **exports},
                                  capture_output=True, text=True, timeout=150)
            assert "loaded" in load.stdout and pidfile.exists(), load.stderr[-2000:]
            started = time.monotonic()
        finally:
            out, _ = stop_within(process, signum)
        took = time.monotonic() - started
        print(f"stopped by signal {signum} in {took:.2f} s")
        assert took < 3 and process.returncode == 0 and "localaws stopped" in out
        script = int(pidfile.read_text())
        deadline = time.monotonic() + 3
        while pathlib.Path(f"/proc/{script}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # SIGKILL delivered; the kernel reaps it
        assert not pathlib.Path(f"/proc/{script}").exists() or \
            "zombie" in pathlib.Path(f"/proc/{script}/status").read_text()


def test_serve_on_a_taken_port_exits_at_once_with_the_fix():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for option in ("--moto-port", "--port"):
            other = "--port" if option == "--moto-port" else "--moto-port"
            started = time.time()
            done = subprocess.run([sys.executable, "-m", "localaws", "serve", option, port, other, "0"],
                                  env=CLEAN_ENV, capture_output=True, text=True, timeout=60)
            assert done.returncode == 2 and f"port {port}" in done.stderr and option in done.stderr, done.stderr
            assert time.time() - started < 30


def test_work_directories_of_killed_emulators_are_removed_at_the_next_start(tmp_path):
    """The safety issue: each killed emulator left its work directory behind."""
    import subprocess as sp

    from localaws.emulator import OWNER_FILE, remove_stale_workdirs

    dead = sp.Popen(["true"])
    dead.wait()
    stale, alive, foreign = tmp_path / "localaws-stale", tmp_path / "localaws-alive", tmp_path / "localaws-foreign"
    for path in (stale, alive, foreign):
        path.mkdir()
    (stale / OWNER_FILE).write_text(str(dead.pid))
    (alive / OWNER_FILE).write_text(str(os.getpid()))
    assert remove_stale_workdirs(tmp_path, keep=tmp_path / "localaws-new") == [stale]
    assert not stale.exists() and alive.exists() and foreign.exists()  # no owner file: not ours
