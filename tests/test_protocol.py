"""The wire-protocol layer: input validation and the strict output check."""
from __future__ import annotations

import pytest

from localaws.protocol import AwsError, check_output, operation_model, validate_input

from .helpers import signed


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


class _ProtocolProbe:
    """Handlers that echo their input: enough to see each protocol's round trip."""

    def detect_dominant_language(self, params, region):
        return {"Languages": [{"LanguageCode": "en", "Score": float(len(params["Text"]))}]}

    def describe_bot(self, params, region):
        import datetime as dt

        return {"botId": params["botId"], "botName": "echo", "botStatus": "Available",
                "creationDateTime": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)}

    def delete_bot(self, params, region):
        return {"botId": params["botId"], "botStatus": "Deleting"}


@pytest.fixture(scope="module")
def probe_url():
    from localaws.protocol import front_ends
    from localaws.server import HttpServer, Router

    handlers = _ProtocolProbe()
    services = front_ends("comprehend", handlers, strict=True) + front_ends("lexv2-models", handlers, strict=True)
    server = HttpServer(Router(services)).start()
    yield server.url
    server.stop()


def test_rpc_v2_cbor_round_trip(probe_url):
    import urllib.request

    import cbor2

    request = urllib.request.Request(
        f"{probe_url}/service/Comprehend_20171127/operation/DetectDominantLanguage",
        data=cbor2.dumps({"Text": "three"}), method="POST",
        headers={"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"})
    with urllib.request.urlopen(signed(request, "comprehend")) as response:
        assert cbor2.loads(response.read()) == {"Languages": [{"LanguageCode": "en", "Score": 5.0}]}


def test_json_protocol_round_trip(probe_url):
    import boto3

    comprehend = boto3.client("comprehend", endpoint_url=probe_url, region_name="us-east-1")
    answer = comprehend.detect_dominant_language(Text="four")
    assert answer["Languages"] == [{"LanguageCode": "en", "Score": 4.0}]
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as err:
        comprehend.detect_sentiment(Text="x", LanguageCode="en")  # no handler: not emulated
    assert err.value.response["Error"]["Code"] == "UnknownOperationException"


def test_rest_json_round_trip(probe_url):
    import boto3

    lex = boto3.client("lexv2-models", endpoint_url=probe_url, region_name="us-east-1")
    bot = lex.describe_bot(botId="ABCDE12345")
    assert bot["botId"] == "ABCDE12345" and bot["creationDateTime"].year == 2026
    assert lex.delete_bot(botId="ABCDE12345", skipResourceInUseCheck=True)["botStatus"] == "Deleting"
