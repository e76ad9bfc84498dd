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


def test_serve_prints_its_environment_and_stops_cleanly_on_ctrl_c():
    process = subprocess.Popen([sys.executable, "-m", "localaws", "serve", "--port", "0", "--moto-port", "0"],
                               env=CLEAN_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.time() + 120
    while time.time() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "Ctrl-C" in line:
            break
    exports = dict(line[len("export "):].strip().split("=", 1) for line in lines if line.startswith("export "))
    probe = subprocess.run([sys.executable, "-c", "import boto3; boto3.client('sagemaker').list_endpoints()"],
                           env={**CLEAN_ENV, **exports}, capture_output=True, text=True, timeout=60)
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    assert probe.returncode == 0, probe.stderr
    assert "AWS_ENDPOINT_URL_SAGEMAKER" in exports and process.returncode == 0 and "localaws stopped" in out
