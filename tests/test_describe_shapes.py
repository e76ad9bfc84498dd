"""Describe* answers shaped as AWS answers them (issue 18, item 1).

tests/aws_examples/ holds one response per resource kind, recorded from AWS and published
in public repositories (README.md there gives each source). For the same configuration,
every field the recording shows must be in localaws's answer too, at the same place and
with a value of the same kind, unless EXEMPT says why it cannot be (a feature the recorded
request asked for and ours does not, or one localaws does not emulate). botocore's model
decides which fields exist; the recordings decide which ones AWS fills in.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from .helpers import client, csv_bytes, make_bucket, sagemaker_role, unique

EXAMPLES = Path(__file__).parent / "aws_examples"
XGBOOST = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
# maps whose keys are the user's (hyperparameters, environment ...), compared as a whole
USER_MAPS = {"HyperParameters", "StaticHyperParameters", "Environment", "TunedHyperParameters", "RuleParameters"}
EXEMPT = {
    "DescribeTrainingJob": {
        "ProfilerConfig": "the recorded job asked for the profiler (the 2021 SDK's default); ours does not, "
                          "and a job that asks gets its ProfilerConfig back",
        "ProfilerRuleConfigurations": "as ProfilerConfig: given by the recorded request",
        "ProfilerRuleEvaluationStatuses": "profiler rules run as processing jobs, which localaws does not emulate",
    },
    "DescribeTransformJob": {
        "AutoMLJobArn": "the recorded job was started by Autopilot (AutoML is not emulated)",
        "CreatedBy": "the recorded job was started from a Studio user profile (Studio is not emulated)",
    },
    "DescribeHyperParameterTuningJob": {},
    "DescribeModel": {}, "DescribeEndpointConfig": {}, "DescribeEndpoint": {},
}


def recorded(operation: str) -> dict:
    body = json.loads((EXAMPLES / f"{operation}.json").read_text())
    body.pop("ResponseMetadata", None)  # botocore's, not the service's
    return body


def paths(value, prefix: str = "") -> dict[str, type]:
    """Every field's path ('A.B[].C') and the kind of its value; null means AWS left it out
    (the Go SDK dump of the tuning job writes absent fields as null)."""
    found: dict[str, type] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if item is None:
                continue
            path = f"{prefix}.{key}" if prefix else key
            found[path] = kind(item)
            if key not in USER_MAPS:
                found.update(paths(item, path))
    elif isinstance(value, list):
        for item in value:
            found.update(paths(item, prefix + "[]"))
    return found


def kind(value) -> type:
    if isinstance(value, bool):
        return bool
    if isinstance(value, (int, float)):
        return float
    if isinstance(value, dt.datetime):
        return dt.datetime
    if isinstance(value, str):
        try:  # the recordings write timestamps as ISO strings
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return dt.datetime if "T" in value and value[:4].isdigit() else str
        except ValueError:
            return str
    return type(value)


@pytest.fixture(scope="module")
def described():
    """The six resources, configured as the recorded ones were."""
    sm, s3 = client("sagemaker"), client("s3")
    bucket = make_bucket(s3)
    rng = np.random.default_rng(5)
    X = rng.random((300, 4))
    y = (X[:, 0] + 0.3 * rng.random(300) > 0.6).astype(int)
    for channel in ("train", "validation"):
        s3.put_object(Bucket=bucket, Key=f"{channel}/data.csv", Body=csv_bytes(np.column_stack([y, X])))
    s3.put_object(Bucket=bucket, Key="batch/x.csv", Body=csv_bytes(X[:20]))
    definition = {
        "AlgorithmSpecification": {"TrainingImage": XGBOOST, "TrainingInputMode": "File"},
        "RoleArn": sagemaker_role(),
        "InputDataConfig": [{"ChannelName": ch, "ContentType": "csv", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{ch}/", "S3DataDistributionType": "FullyReplicated"}}}
            for ch in ("train", "validation")],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "ResourceConfig": {"InstanceType": "ml.m4.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
    }
    job = unique("shape-job")
    sm.create_training_job(TrainingJobName=job, HyperParameters={
        "objective": "binary:logistic", "num_round": "10", "max_depth": "3", "eta": "0.2"}, **definition)
    artifacts = sm.describe_training_job(TrainingJobName=job)["ModelArtifacts"]["S3ModelArtifacts"]
    model = unique("shape-model")
    sm.create_model(ModelName=model, ExecutionRoleArn=sagemaker_role(),
                    PrimaryContainer={"Image": XGBOOST, "ModelDataUrl": artifacts})
    sm.create_endpoint_config(EndpointConfigName=model, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.xlarge"}])
    sm.create_endpoint(EndpointName=model, EndpointConfigName=model)
    transform = unique("shape-transform")
    sm.create_transform_job(
        TransformJobName=transform, ModelName=model, MaxConcurrentTransforms=4,
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/batch/"}},
                        "ContentType": "text/csv", "SplitType": "Line"},
        TransformOutput={"S3OutputPath": f"s3://{bucket}/batch-out/", "Accept": "text/csv"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1})
    tuning = unique("shape-tuning")[:32]
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning,
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian", "TrainingJobEarlyStoppingType": "Auto",
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "validation:error"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
            "ParameterRanges": {
                "CategoricalParameterRanges": [{"Name": "tree_method", "Values": ["hist"]}],
                "ContinuousParameterRanges": [{"Name": "gamma", "MinValue": "0", "MaxValue": "5",
                                               "ScalingType": "Linear"}],
                "IntegerParameterRanges": [{"Name": "num_round", "MinValue": "10", "MaxValue": "20",
                                            "ScalingType": "Linear"}]}},
        TrainingJobDefinition={**definition, "EnableNetworkIsolation": True, "StaticHyperParameters": {
            "objective": "binary:logistic", "eval_metric": "error"}})
    answers = {
        "DescribeTrainingJob": sm.describe_training_job(TrainingJobName=job),
        "DescribeModel": sm.describe_model(ModelName=model),
        "DescribeEndpointConfig": sm.describe_endpoint_config(EndpointConfigName=model),
        "DescribeEndpoint": sm.describe_endpoint(EndpointName=model),
        "DescribeTransformJob": sm.describe_transform_job(TransformJobName=transform),
        "DescribeHyperParameterTuningJob": sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning),
    }
    yield answers
    sm.delete_endpoint(EndpointName=model)
    sm.delete_endpoint_config(EndpointConfigName=model)
    sm.delete_model(ModelName=model)


@pytest.mark.parametrize("operation", sorted(EXEMPT))
def test_every_field_aws_returns_is_returned(described, operation):
    answer = described[operation]
    answer.pop("ResponseMetadata", None)
    status = next((v for k, v in answer.items() if k.endswith("Status") and k != "SecondaryStatus"
                   and k != "ProfilingStatus"), "Completed")
    assert status in ("Completed", "InService"), answer.get("FailureReason")
    ours, theirs = paths(answer), paths(recorded(operation))
    missing = sorted(p for p in theirs if p not in ours and p.split(".")[0].split("[")[0] not in EXEMPT[operation])
    assert not missing, f"{operation}: AWS returns {missing}"
    different = sorted(f"{p}: {theirs[p].__name__} vs {ours[p].__name__}" for p in theirs
                       if p in ours and theirs[p] is not ours[p])
    assert not different, f"{operation}: fields of another kind: {different}"


def test_the_xgboost_metric_definitions_are_awss_and_find_its_metrics(described):
    """AWS lists the container's 36 XGBoost metric regexes; localaws logs its rounds as the
    container does (`[9]#011train-error:0.1`), so the same regexes read its metrics."""
    ours = described["DescribeTrainingJob"]["AlgorithmSpecification"]["MetricDefinitions"]
    theirs = recorded("DescribeTrainingJob")["AlgorithmSpecification"]["MetricDefinitions"]
    assert sorted(map(json.dumps, ours)) == sorted(map(json.dumps, theirs))
    reported = {m["MetricName"] for m in described["DescribeTrainingJob"]["FinalMetricDataList"]}
    assert {"train:logloss", "validation:logloss"} <= reported
