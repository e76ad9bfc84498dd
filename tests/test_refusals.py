"""What AWS refuses at the call itself, refused offline with AWS's code and wording
(localaws/REFUSALS.md lists these rows with their sources)."""
from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

import botocore.session
import pytest
from botocore.exceptions import ClientError

from localaws.sagemaker.runtime import MAX_PAYLOAD

from .helpers import client, sagemaker_role, unique

ROOT = Path(__file__).resolve().parent.parent
LINEAR_LEARNER = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"


def refused(call, **params) -> dict:
    with pytest.raises(ClientError) as err:
        call(**params)
    return err.value.response["Error"]


def training_request(**changes) -> dict:
    request = {
        "TrainingJobName": unique("refusals"), "RoleArn": sagemaker_role(),
        "AlgorithmSpecification": {"TrainingImage": LINEAR_LEARNER, "TrainingInputMode": "File"},
        "OutputDataConfig": {"S3OutputPath": "s3://sagemaker-refusals/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    for key, value in changes.items():
        if isinstance(value, dict):
            request[key] = {**request[key], **value}
        else:
            request[key] = value
    return request


def test_a_training_instance_type_outside_the_models_enum_is_a_validation_error():
    """botocore: ResourceConfig.InstanceType is TrainingInstanceType, an enum without ml.t2.*."""
    error = refused(client("sagemaker").create_training_job,
                    **training_request(ResourceConfig={"InstanceType": "ml.t2.medium"}))
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith("1 validation error detected: Value 'ml.t2.medium' at "
                                       "'resourceConfig.instanceType' failed to satisfy constraint: "
                                       "Member must satisfy enum value set: [")


def test_a_hosting_instance_type_outside_the_models_enum_is_a_validation_error():
    """botocore: ProductionVariant.InstanceType is ProductionVariantInstanceType (ml.t2.medium is in it)."""
    sm = client("sagemaker")
    error = refused(sm.create_endpoint_config, EndpointConfigName=unique("refusals"), ProductionVariants=[
        {"VariantName": "v", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.nano"}])
    assert error["Code"] == "ValidationException"
    assert "at 'productionVariants.1.member.instanceType' failed to satisfy constraint" in error["Message"]


@pytest.mark.parametrize("name, constraint", [
    ("has spaces", "Member must satisfy regular expression pattern"),
    ("x" * 64, "Member must have length less than or equal to 63"),
])
def test_a_job_name_outside_the_models_pattern_or_length_is_refused_before_any_work(name, constraint):
    """botocore: TrainingJobName, pattern ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}, max 63."""
    sm = client("sagemaker")
    error = refused(sm.create_training_job, **training_request(TrainingJobName=name))
    assert error["Code"] == "ValidationException" and constraint in error["Message"]
    assert not [j for j in sm.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]
                if j["TrainingJobName"] == name]


@pytest.mark.parametrize("max_results", [0, 101, 10**9])
def test_max_results_outside_its_range_is_refused(max_results):
    """botocore: ListTrainingJobs MaxResults min 1, max 100 (min 1 botocore checks itself)."""
    sm = client("sagemaker", config=botocore.config.Config(parameter_validation=False))
    error = refused(sm.list_training_jobs, MaxResults=max_results)
    assert error["Code"] == "ValidationException" and "maxResults" in error["Message"]


def test_an_unknown_enum_value_in_a_list_filter_is_refused():
    sm = client("sagemaker")
    error = refused(sm.list_training_jobs, StatusEquals="Bogus")
    assert error["Code"] == "ValidationException" and "statusEquals" in error["Message"]


def test_an_invoke_endpoint_body_over_the_models_limit_is_refused():
    """botocore: InvokeEndpoint's Body (BodyBlob) max 6291456 bytes."""
    assert MAX_PAYLOAD == 6291456
    runtime = client("sagemaker-runtime")
    error = refused(runtime.invoke_endpoint, EndpointName="any", ContentType="text/csv",
                    Body=b"1," * (MAX_PAYLOAD // 2 + 1))
    assert error["Code"] == "ValidationError" and str(MAX_PAYLOAD) in error["Message"]


def test_an_unsigned_request_is_refused_when_iam_is_on(emulator):
    if getattr(emulator, "iam_mode", "off") == "off":
        pytest.skip("IAM is off")
    request = urllib.request.Request(os.environ["AWS_ENDPOINT_URL_SAGEMAKER"], data=b"{}", method="POST",
                                     headers={"X-Amz-Target": "SageMaker.ListModels",
                                              "Content-Type": "application/x-amz-json-1.1"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 403
    assert err.value.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_comprehend_can_answer_trained_with_warning_and_chapter_10_accepts_it():
    """botocore: ModelStatus has TRAINED_WITH_WARNING, a usable classifier; the notebook must
    not treat it as a failure (localaws itself never reports it: nothing it skips)."""
    statuses = botocore.session.get_session().get_service_model("comprehend").shape_for("ModelStatus").enum
    assert "TRAINED_WITH_WARNING" in statuses
    notebook = (ROOT / "chapter10_comprehend" / "4_comprehend_custom_classifier.ipynb").read_text()
    assert 'in (\\"TRAINED\\", \\"TRAINED_WITH_WARNING\\")' in notebook


def test_chapter_15_handles_the_athena_refusal_before_its_cleanup():
    notebook = (ROOT / "chapter15_emr" / "2_glue_athena_catalog.ipynb").read_text()
    assert "except athena.exceptions.InvalidRequestException" in notebook


def test_a_configured_instance_quota_refuses_what_would_exceed_it(monkeypatch):
    """amazon-sagemaker-examples#263: ResourceLimitExceeded at CreateTrainingJob, AWS's wording."""
    monkeypatch.setenv("LOCALAWS_SAGEMAKER_QUOTAS", '{"ml.p3.2xlarge for training job usage": 0}')
    error = refused(client("sagemaker").create_training_job,
                    **training_request(ResourceConfig={"InstanceType": "ml.p3.2xlarge"}))
    assert error["Code"] == "ResourceLimitExceeded"
    assert error["Message"] == ("The account-level service limit 'ml.p3.2xlarge for training job usage' is 0 "
                                "Instances, with current utilization of 0 Instances and a request delta of 1 "
                                "Instances. Please contact AWS support to request an increase for this limit.")


def test_endpoint_quotas_refuse_only_past_the_limit(monkeypatch):
    from localaws.sagemaker import quotas

    monkeypatch.setenv("LOCALAWS_SAGEMAKER_QUOTAS", '{"ml.m5.large for endpoint usage": 2}')
    quotas.check("endpoint", "ml.m5.large", 1, in_use=1)  # 2 of 2: allowed
    with pytest.raises(Exception, match="current utilization of 2 Instances and a request delta of 1"):
        quotas.check("endpoint", "ml.m5.large", 1, in_use=2)
    quotas.check("endpoint", "ml.c5.large", 5, in_use=0)  # no quota set for this type
