"""StopTrainingJob and StoppingCondition.MaxRuntimeInSeconds really end a job (the safety
issue: a 40 s script ran to its end, a 10^6-round xgboost job stayed Stopping)."""
from __future__ import annotations

import io
import tarfile
import threading
import time

import numpy as np
import pytest
from botocore.exceptions import ClientError

from .helpers import client, csv_bytes, make_bucket, regression_data, training_job_request, unique

XGBOOST = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
TENSORFLOW = "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:2.18-cpu-py310"


@pytest.fixture(scope="module")
def bucket():
    s3 = client("s3")
    name = make_bucket(s3)
    X, y = regression_data(200, 3)
    s3.put_object(Bucket=name, Key="train/data.csv", Body=csv_bytes(np.column_stack([y, X])))
    return name


def endless_xgboost(bucket, **changes):
    request = training_job_request(unique("endless"), bucket, {"num_round": "1000000", "max_depth": "3",
                                                               "objective": "reg:squarederror"}, XGBOOST)
    request.update(changes)
    return request


def test_max_runtime_ends_the_job_as_stopped_with_max_runtime_exceeded(bucket):
    request = endless_xgboost(bucket, StoppingCondition={"MaxRuntimeInSeconds": 2})
    started = time.monotonic()
    client("sagemaker").create_training_job(**request)
    job = wait_until_ended(request["TrainingJobName"], 30)
    assert time.monotonic() - started < 20
    assert job["TrainingJobStatus"] == "Stopped" and job["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert "FailureReason" not in job


def test_stop_training_job_ends_a_running_job_within_seconds(bucket):
    request = endless_xgboost(bucket)
    sm = client("sagemaker")
    creating = threading.Thread(target=sm.create_training_job, kwargs=request, daemon=True)
    creating.start()  # the call waits for the job (up to a minute offline): stop it from here meanwhile
    name = request["TrainingJobName"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if sm.describe_training_job(TrainingJobName=name)["SecondaryStatus"] == "Training":
                break
        except ClientError:  # not created yet: SageMaker answers ValidationException
            pass
        time.sleep(0.2)
    sm.stop_training_job(TrainingJobName=name)
    assert sm.describe_training_job(TrainingJobName=name)["TrainingJobStatus"] in ("Stopping", "Stopped")
    stopped_at = time.monotonic()
    job = wait_until_ended(name, 30)
    assert job["TrainingJobStatus"] == "Stopped" and job["SecondaryStatus"] == "Stopped"
    assert time.monotonic() - stopped_at < 10
    creating.join(30)


def test_parallel_creates_cannot_both_pass_an_instance_quota(bucket, monkeypatch):
    """Quota check and insert are one step: with a quota of 1, two Creates held side by side at
    the check (a barrier after it) must not both start. Before, both passed and both ran."""
    from localaws.sagemaker import quotas

    monkeypatch.setenv("LOCALAWS_SAGEMAKER_QUOTAS", '{"ml.m5.large for training job usage": 1}')
    gate, original = threading.Barrier(2, timeout=2), quotas.check

    def check_then_wait(*args, **kwargs):
        original(*args, **kwargs)
        try:
            gate.wait()  # a second Create reaches here only if it was not held out by the lock
        except threading.BrokenBarrierError:
            pass

    monkeypatch.setattr(quotas, "check", check_then_wait)
    sm, outcomes = client("sagemaker"), []

    def create():
        try:
            sm.create_training_job(**endless_xgboost(bucket, StoppingCondition={"MaxRuntimeInSeconds": 3}))
            outcomes.append("created")
        except ClientError as err:
            outcomes.append(err.response["Error"]["Code"])

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["ResourceLimitExceeded", "created"]


def test_a_script_mode_process_is_ended_at_max_runtime(bucket):
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        script = b"import time\nprint('sleeping', flush=True)\ntime.sleep(60)\n"
        info = tarfile.TarInfo("train.py")
        info.size = len(script)
        tar.addfile(info, io.BytesIO(script))
    client("s3").put_object(Bucket=bucket, Key="code/sourcedir.tar.gz", Body=archive.getvalue())
    request = training_job_request(unique("sleeper"), bucket, {
        "sagemaker_program": '"train.py"', "sagemaker_submit_directory": f'"s3://{bucket}/code/sourcedir.tar.gz"'},
        TENSORFLOW)
    request["StoppingCondition"] = {"MaxRuntimeInSeconds": 3}
    started = time.monotonic()
    client("sagemaker").create_training_job(**request)
    job = wait_until_ended(request["TrainingJobName"], 40)
    assert job["TrainingJobStatus"] == "Stopped" and job["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert time.monotonic() - started < 30  # not the script's 60 s


def wait_until_ended(name, seconds):
    sm = client("sagemaker")
    deadline = time.monotonic() + seconds
    while True:
        job = sm.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)
