"""The wire-protocol layer: input validation and the strict output check."""
from __future__ import annotations

import pytest

from localaws.protocol import AwsError, check_output, operation_model, validate_input


def test_input_is_validated_against_botocores_model():
    op = operation_model("sagemaker", "DescribeTrainingJob")
    validate_input(op, {"TrainingJobName": "ok"})
    with pytest.raises(AwsError) as err:
        validate_input(op, {"TrainingJobName": 42})
    assert err.value.code == "ValidationException" and "TrainingJobName" in err.value.message


def test_strict_check_catches_responses_boto3_would_mis_parse():
    op = operation_model("sagemaker", "DescribeEndpoint")
    good = {"EndpointName": "e", "EndpointArn": "arn", "EndpointStatus": "InService",
            "CreationTime": 1.0, "LastModifiedTime": 1.0}
    assert check_output(op, good) == []
    bad = {**good, "EndpointStatus": "Running", "Extra": 1}
    del bad["EndpointArn"]
    found = " ".join(check_output(op, bad))
    assert "EndpointArn: required" in found and "Running" in found and "Extra" in found


def test_unknown_operations_are_reported():
    with pytest.raises(AwsError) as err:
        operation_model("sagemaker", "MakeCoffee")
    assert err.value.code == "UnknownOperationException"
