"""`--job-seconds N`, the realistic clock (issue 18): jobs pass through their real
intermediate states, so waiters, Stopping and "not finished yet" paths can be tested.
Run in its own `localaws serve` process: the clock is a start-up option."""
from __future__ import annotations

import json
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


def test_a_transform_job_is_in_progress_first(slow):
    sm = slow("sagemaker")
    sm.create_training_job(**request(slow, "clock-for-transform"))
    sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName="clock-for-transform",
                                                            WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    artifacts = sm.describe_training_job(TrainingJobName="clock-for-transform")["ModelArtifacts"]["S3ModelArtifacts"]
    sm.create_model(ModelName="clock-transform-model", ExecutionRoleArn=slow.role,
                    PrimaryContainer={"Image": LINEAR_LEARNER, "ModelDataUrl": artifacts})
    X, _ = regression_data(20, 3)
    slow("s3").put_object(Bucket="sagemaker-clock", Key="batch/x.csv", Body=csv_bytes(X))
    sm.create_transform_job(
        TransformJobName="clock-transform", ModelName="clock-transform-model",
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://sagemaker-clock/batch/"}},
                        "ContentType": "text/csv", "SplitType": "Line"},
        TransformOutput={"S3OutputPath": "s3://sagemaker-clock/batch-out/"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1})
    assert sm.describe_transform_job(TransformJobName="clock-transform")["TransformJobStatus"] == "InProgress"
    sm.get_waiter("transform_job_completed_or_stopped").wait(TransformJobName="clock-transform",
                                                             WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    assert sm.describe_transform_job(TransformJobName="clock-transform")["TransformJobStatus"] == "Completed"
    body = slow("s3").get_object(Bucket="sagemaker-clock", Key="batch-out/x.csv.out")["Body"].read()
    assert len(json.loads(body)["predictions"]) == 20  # MultiRecord: one JSON answer for the batch
    sm.delete_model(ModelName="clock-transform-model")


def test_a_warm_start_from_a_tuning_job_still_in_progress_is_refused(slow):
    """Developer Guide, Warm Start Tuning Restrictions: every parent must be Completed,
    Stopped or Failed. Only the clock lets a parent be seen InProgress."""
    sm = slow("sagemaker")
    job = request(slow, "unused")
    definition = {k: job[k] for k in ("AlgorithmSpecification", "RoleArn", "InputDataConfig", "OutputDataConfig",
                                      "ResourceConfig", "StoppingCondition")}
    definition["StaticHyperParameters"] = job["HyperParameters"]
    config = {"Strategy": "Random", "ResourceLimits": {"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1},
              "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "train:objective_loss"},
              "ParameterRanges": {"ContinuousParameterRanges": [{"Name": "wd", "MinValue": "0.0001",
                                                                  "MaxValue": "0.1"}]}}
    sm.create_hyper_parameter_tuning_job(HyperParameterTuningJobName="clock-parent",
                                         HyperParameterTuningJobConfig=config, TrainingJobDefinition=definition)
    assert sm.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="clock-parent")["HyperParameterTuningJobStatus"] == "InProgress"
    with pytest.raises(sm.exceptions.ClientError, match="must be Completed, Stopped or Failed"):
        sm.create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName="clock-child", HyperParameterTuningJobConfig=config,
            TrainingJobDefinition=definition,
            WarmStartConfig={"ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "clock-parent"}],
                             "WarmStartType": "TransferLearning"})
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="clock-parent")
