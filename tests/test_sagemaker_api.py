"""The emulated SageMaker API through boto3: real training, real errors, AWS's error codes.

The session's localaws runs in strict mode, so every response in these tests was also
checked against botocore's service model before it was sent.
"""
from __future__ import annotations

import json
import tarfile
import io

import numpy as np
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError



from .helpers import (LINEAR_LEARNER, client, csv_bytes, make_bucket, regression_data, sagemaker_role,
                      training_job_request, unique)


@pytest.fixture(scope="module")
def sm():
    return client("sagemaker")


@pytest.fixture(scope="module")
def runtime():
    return client("sagemaker-runtime")


@pytest.fixture(scope="module")
def trained(sm):
    """A finished linear-learner regressor job on generated data."""
    s3 = client("s3")
    bucket = make_bucket(s3)
    X, y = regression_data()
    s3.put_object(Bucket=bucket, Key="train/data.csv", Body=csv_bytes(np.column_stack([y[:240], X[:240]])))
    s3.put_object(Bucket=bucket, Key="test/data.csv", Body=csv_bytes(np.column_stack([y[240:], X[240:]])))
    name = unique("ll-job")
    sm.create_training_job(**training_job_request(
        name, bucket, {"predictor_type": "regressor", "feature_dim": "4"},
        channels={"train": f"s3://{bucket}/train/", "test": f"s3://{bucket}/test/"}))
    return {"name": name, "bucket": bucket, "X": X, "y": y}


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_training_job_trains_and_reports_test_metrics(sm, trained):
    job = sm.describe_training_job(TrainingJobName=trained["name"])
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    baseline = float(np.var(trained["y"][240:]))  # MSE of always predicting the mean
    assert metrics["test:mse"] < 0.05 * baseline
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]] == \
        ["Starting", "Downloading", "Training", "Uploading", "Completed"]


def test_model_artifact_is_a_tarball_in_s3(trained, sm):
    job = sm.describe_training_job(TrainingJobName=trained["name"])
    bucket, key = job["ModelArtifacts"]["S3ModelArtifacts"][5:].split("/", 1)
    body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        model = json.load(tar.extractfile("localaws-linear-learner.json"))
    assert len(model["coef"][0]) == 4


def test_training_log_is_in_cloudwatch(trained):
    logs = client("logs")
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs",
                                        logStreamNamePrefix=trained["name"] + "/")["logStreams"]
    events = logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs",
                                 logStreamName=streams[0]["logStreamName"])["events"]
    assert any("test mse" in e["message"] for e in events)


def test_unknown_training_job_is_a_validation_error(sm):
    with pytest.raises(ClientError) as err:
        sm.describe_training_job(TrainingJobName="no-such-job")
    assert error_code(err) == "ValidationException"


def test_duplicate_training_job_name_is_resource_in_use(sm, trained):
    request = training_job_request(trained["name"], trained["bucket"], {"predictor_type": "regressor"})
    with pytest.raises(ClientError) as err:
        sm.create_training_job(**request)
    assert error_code(err) == "ResourceInUse"


def test_missing_required_hyperparameter_fails_the_job(sm, trained):
    name = unique("no-predictor-type")
    sm.create_training_job(**training_job_request(name, trained["bucket"], {"feature_dim": "4"}))
    job = sm.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError") and "predictor_type" in job["FailureReason"]


def test_missing_data_fails_the_job_with_a_download_error(sm, trained):
    name = unique("no-data")
    request = training_job_request(name, trained["bucket"], {"predictor_type": "regressor"},
                                   channels={"train": f"s3://{trained['bucket']}/nothing-here/"})
    sm.create_training_job(**request)
    job = sm.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Failed" and "Data download failed" in job["FailureReason"]


def test_an_image_localaws_cannot_run_fails_the_job_and_says_so(sm, trained):
    name = unique("unknown-image")
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-own-algorithm:latest"
    sm.create_training_job(**training_job_request(name, trained["bucket"], {}, image=image))
    job = sm.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Failed" and "cannot run image" in job["FailureReason"]


def test_a_malformed_request_gets_validation_exception():
    # parameter_validation=False lets the request reach the server as a buggy client would send it
    raw = client("sagemaker", config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as err:
        raw.create_model(ModelName="m")  # no PrimaryContainer, no ExecutionRoleArn
    assert error_code(err) == "ValidationException"


def test_an_operation_localaws_does_not_emulate_says_so(sm):
    with pytest.raises(ClientError) as err:
        sm.list_notebook_instances()
    assert error_code(err) == "UnknownOperationException"
    assert "localaws does not emulate" in err.value.response["Error"]["Message"]


def test_endpoint_config_for_an_unknown_model_is_rejected(sm):
    with pytest.raises(ClientError) as err:
        sm.create_endpoint_config(EndpointConfigName=unique("cfg"), ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": "no-such-model",
            "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    assert error_code(err) == "ValidationException"


@pytest.fixture(scope="module")
def endpoint(sm, trained):
    job = sm.describe_training_job(TrainingJobName=trained["name"])
    name = unique("ll-endpoint")
    sm.create_model(ModelName=name, ExecutionRoleArn=sagemaker_role(), PrimaryContainer={
        "Image": LINEAR_LEARNER, "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"]})
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large"}])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    yield name
    sm.delete_endpoint(EndpointName=name)
    sm.delete_endpoint_config(EndpointConfigName=name)
    sm.delete_model(ModelName=name)


def test_endpoint_is_in_service_and_predicts(sm, runtime, endpoint, trained):
    assert sm.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
    X, y = trained["X"][240:250], trained["y"][240:250]
    response = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv_bytes(X))
    assert response["ContentType"] == "application/json"
    assert response["InvokedProductionVariant"] == "AllTraffic"
    scores = [p["score"] for p in json.loads(response["Body"].read())["predictions"]]
    assert np.abs(np.array(scores) - y).max() < 1.5


def test_endpoint_answers_in_the_accepted_format(runtime, endpoint, trained):
    body = json.dumps({"instances": [{"features": list(trained["X"][0])}]})
    response = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="application/json",
                                       Accept="application/jsonlines", Body=body)
    line = response["Body"].read().decode().strip()
    assert set(json.loads(line)) == {"score"}


def test_a_request_the_model_rejects_is_a_model_error(runtime, endpoint):
    with pytest.raises(ClientError) as err:
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=b"1,2,three\n")
    assert error_code(err) == "ModelError"
    assert err.value.response["OriginalStatusCode"] == 400
    with pytest.raises(ClientError) as err:  # the wrong number of features
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=b"1,2,3\n")
    assert "feature_dim" in err.value.response["OriginalMessage"]


def test_an_unknown_endpoint_is_a_validation_error(runtime):
    with pytest.raises(ClientError) as err:
        runtime.invoke_endpoint(EndpointName="no-such-endpoint", ContentType="text/csv", Body=b"1")
    assert error_code(err) == "ValidationError"


def test_many_concurrent_invocations_are_all_answered(runtime, endpoint, trained):
    from concurrent.futures import ThreadPoolExecutor

    rows = trained["X"][:40]

    def ask(row):
        body = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv_bytes(row[None]))
        return json.loads(body["Body"].read())["predictions"][0]["score"]

    with ThreadPoolExecutor(8) as pool:
        scores = list(pool.map(ask, rows))
    assert len(scores) == 40 and np.abs(np.array(scores) - trained["y"][:40]).max() < 1.5


def test_batch_transform_writes_one_answer_per_line(sm, trained, endpoint):
    s3 = client("s3")
    bucket = trained["bucket"]
    s3.put_object(Bucket=bucket, Key="batch/in.csv", Body=csv_bytes(trained["X"][:25]))
    name = unique("transform")
    sm.create_transform_job(
        TransformJobName=name, ModelName=endpoint, BatchStrategy="MultiRecord",
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/batch/"}},
                        "ContentType": "text/csv", "SplitType": "Line"},
        TransformOutput={"S3OutputPath": f"s3://{bucket}/batch-out", "Accept": "application/jsonlines",
                         "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1})
    assert sm.describe_transform_job(TransformJobName=name)["TransformJobStatus"] == "Completed"
    lines = s3.get_object(Bucket=bucket, Key="batch-out/in.csv.out")["Body"].read().decode().splitlines()
    assert len(lines) == 25 and all("score" in json.loads(line) for line in lines)


def test_list_calls_filter_sort_and_paginate(sm, trained):
    page = sm.list_training_jobs(NameContains="ll-job", MaxResults=1)
    assert [j["TrainingJobName"] for j in page["TrainingJobSummaries"]] == [trained["name"]]
    failed = sm.list_training_jobs(StatusEquals="Failed", MaxResults=100)["TrainingJobSummaries"]
    completed = sm.list_training_jobs(StatusEquals="Completed", MaxResults=100)["TrainingJobSummaries"]
    assert trained["name"] in [j["TrainingJobName"] for j in completed]  # the filter keeps matches ...
    assert trained["name"] not in [j["TrainingJobName"] for j in failed]  # ... and drops the rest
    assert all(j["TrainingJobStatus"] == "Failed" for j in failed)
    everything = sm.get_paginator("list_training_jobs").paginate(PaginationConfig={"PageSize": 2})
    names = [j["TrainingJobName"] for page in everything for j in page["TrainingJobSummaries"]]
    assert trained["name"] in names and len(names) == len(set(names))


def test_tags_round_trip(sm, trained):
    arn = sm.describe_training_job(TrainingJobName=trained["name"])["TrainingJobArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "chapter", "Value": "3"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "chapter", "Value": "3"}]
    sm.delete_tags(ResourceArn=arn, TagKeys=["chapter"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == []


def test_pages_follow_a_token_and_a_token_with_other_filters_is_refused(sm):
    """moto's Paginator: the token names the next model and carries the request's filters."""
    image = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
    prefix = unique("paged")
    names = [f"{prefix}-{i}" for i in range(7)]
    for name in names:
        sm.create_model(ModelName=name, ExecutionRoleArn=sagemaker_role(), PrimaryContainer={"Image": image})
    try:
        pages = sm.get_paginator("list_models").paginate(NameContains=prefix, SortBy="Name", SortOrder="Ascending",
                                                         PaginationConfig={"PageSize": 3})
        assert [m["ModelName"] for page in pages for m in page["Models"]] == names
        first = sm.list_models(NameContains=prefix, MaxResults=3)
        with pytest.raises(ClientError) as err:
            sm.list_models(NameContains=prefix[:-1], MaxResults=3, NextToken=first["NextToken"])
        assert error_code(err) == "ValidationException"
    finally:
        for name in names:
            sm.delete_model(ModelName=name)


def test_tags_belong_to_a_resource_that_exists_and_go_with_it(sm):
    image = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
    name = unique("tagged")
    arn = sm.create_model(ModelName=name, ExecutionRoleArn=sagemaker_role(), PrimaryContainer={"Image": image},
                          Tags=[{"Key": "chapter", "Value": "3"}])["ModelArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "chapter", "Value": "16"}, {"Key": "book", "Value": "mastering"}])
    assert sorted(sm.list_tags(ResourceArn=arn)["Tags"], key=lambda t: t["Key"]) == \
        [{"Key": "book", "Value": "mastering"}, {"Key": "chapter", "Value": "16"}]  # AddTags overwrites
    for refused in ([{"Key": "aws:owner", "Value": "me"}],  # reserved prefix
                    [{"Key": f"k{i}", "Value": "v"} for i in range(49)]):  # 2 + 49 keys > 50 per resource
        with pytest.raises(ClientError) as err:
            sm.add_tags(ResourceArn=arn, Tags=refused)
        assert error_code(err) == "ValidationException"
    sm.delete_model(ModelName=name)
    with pytest.raises(ClientError) as err:  # aws/amazon-sagemaker-feedback#108: a deleted resource's tags
        sm.list_tags(ResourceArn=arn)
    assert error_code(err) == "ValidationException"
    sm.create_model(ModelName=name, ExecutionRoleArn=sagemaker_role(), PrimaryContainer={"Image": image})
    try:
        assert sm.list_tags(ResourceArn=arn)["Tags"] == []  # the old model's tags went with it
    finally:
        sm.delete_model(ModelName=name)


def test_deleting_what_does_not_exist_is_a_validation_error(sm):
    for call, kwargs in [(sm.delete_endpoint, {"EndpointName": "nope"}),
                         (sm.delete_endpoint_config, {"EndpointConfigName": "nope"}),
                         (sm.delete_model, {"ModelName": "nope"})]:
        with pytest.raises(ClientError) as err:
            call(**kwargs)
        assert error_code(err) == "ValidationException"


def test_an_emr_cluster_left_running_is_reported_and_reset():
    import json
    import os
    import urllib.request

    emr = client("emr")
    cluster = emr.run_job_flow(Name=unique("left"), ReleaseLabel="emr-7.0.0", JobFlowRole="EMR_EC2_DefaultRole",
                               ServiceRole="EMR_DefaultRole", Instances={
                                   "MasterInstanceType": "m5.xlarge", "InstanceCount": 1,
                                   "KeepJobFlowAliveWhenNoSteps": True})["JobFlowId"]
    base = os.environ["LOCALAWS_ENDPOINT"]
    with urllib.request.urlopen(f"{base}/_localaws/leftovers") as response:
        assert cluster in json.loads(response.read())["EMR clusters"]
    from localaws.services import MotoLeftovers

    MotoLeftovers(os.environ["AWS_ENDPOINT_URL"]).clear_leftovers()  # what the harness's reset does
    state = emr.describe_cluster(ClusterId=cluster)["Cluster"]["Status"]["State"]
    assert state.startswith("TERMINAT")
