"""`--job-seconds N`, the realistic clock (issue 18): jobs pass through their real
intermediate states, so waiters, Stopping and "not finished yet" paths can be tested.
Run in its own `localaws serve` process: the clock is a start-up option."""
from __future__ import annotations

import signal
import time

import boto3
import numpy as np
import pytest

from .helpers import LINEAR_LEARNER, csv_bytes, regression_data, training_job_request
from .test_cli import read_until_ready, start_serve, stop_within

HOLD = 2.0


@pytest.fixture(scope="module")
def slow():
    process = start_serve("--port", "0", "--moto-port", "0", "--job-seconds", str(HOLD))
    try:
        env = read_until_ready(process)
        session = boto3.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"], region_name="us-east-1",
                                aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                aws_session_token=env.get("AWS_SESSION_TOKEN"))

        def client(name):
            key = "AWS_ENDPOINT_URL_" + name.upper().replace("-", "_")
            return session.client(name, endpoint_url=env.get(key, env["AWS_ENDPOINT_URL"]))

        bucket = "sagemaker-clock"
        client("s3").create_bucket(Bucket=bucket)
        X, y = regression_data(200, 3)
        client("s3").put_object(Bucket=bucket, Key="train/data.csv", Body=csv_bytes(np.column_stack([y, X])))
        client.role = env["SAGEMAKER_ROLE_ARN"]
        yield client
    finally:
        stop_within(process, signal.SIGTERM)


def request(client, name):
    job = training_job_request(name, "sagemaker-clock", {"predictor_type": "regressor", "feature_dim": "3"},
                               LINEAR_LEARNER)
    return {**job, "RoleArn": client.role}


def test_a_job_is_in_progress_after_create_and_completes_later(slow):
    sm = slow("sagemaker")
    started = time.monotonic()
    sm.create_training_job(**request(slow, "clock-complete"))
    assert time.monotonic() - started < HOLD  # Create returned before the job's work
    assert sm.describe_training_job(TrainingJobName="clock-complete")["TrainingJobStatus"] == "InProgress"
    sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName="clock-complete",
                                                            WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    job = sm.describe_training_job(TrainingJobName="clock-complete")
    assert job["TrainingJobStatus"] == "Completed" and time.monotonic() - started >= HOLD


def test_stopping_can_be_seen_and_ends_stopped(slow):
    sm = slow("sagemaker")
    sm.create_training_job(**request(slow, "clock-stop"))
    sm.stop_training_job(TrainingJobName="clock-stop")
    assert sm.describe_training_job(TrainingJobName="clock-stop")["TrainingJobStatus"] in ("Stopping", "Stopped")
    sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName="clock-stop",
                                                            WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert sm.describe_training_job(TrainingJobName="clock-stop")["TrainingJobStatus"] == "Stopped"


def test_an_endpoint_is_creating_first_then_in_service(slow):
    sm = slow("sagemaker")
    sm.create_training_job(**request(slow, "clock-for-endpoint"))
    sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName="clock-for-endpoint",
                                                            WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    artifacts = sm.describe_training_job(TrainingJobName="clock-for-endpoint")["ModelArtifacts"]["S3ModelArtifacts"]
    sm.create_model(ModelName="clock-model", ExecutionRoleArn=slow.role,
                    PrimaryContainer={"Image": LINEAR_LEARNER, "ModelDataUrl": artifacts})
    sm.create_endpoint_config(EndpointConfigName="clock-config", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "clock-model", "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large"}])
    started = time.monotonic()
    sm.create_endpoint(EndpointName="clock-endpoint", EndpointConfigName="clock-config")
    assert sm.describe_endpoint(EndpointName="clock-endpoint")["EndpointStatus"] == "Creating"
    sm.get_waiter("endpoint_in_service").wait(EndpointName="clock-endpoint",
                                              WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    assert time.monotonic() - started >= HOLD
    sm.delete_endpoint(EndpointName="clock-endpoint")
    sm.delete_endpoint_config(EndpointConfigName="clock-config")
    sm.delete_model(ModelName="clock-model")
