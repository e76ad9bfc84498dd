"""SageMaker Runtime's InvokeEndpoint (rest-json: POST /endpoints/{EndpointName}/invocations).

The endpoint's loaded model answers. As on AWS, an unknown endpoint is a
`ValidationError`, and a request the model rejects is a `ModelError` (HTTP 424) carrying
the container's own status code and message.
"""
from __future__ import annotations

from ..protocol import AwsError, operation_model
from .algorithms.base import ClientError
from .models import ACCOUNT, SageMakerBackend

# the request body's limit in botocore's model of InvokeEndpoint (BodyBlob, max 6291456:
# 6 MB); botocore does not check blob lengths on the client, so the service refuses it
MAX_PAYLOAD = operation_model("sagemaker-runtime", "InvokeEndpoint").input_shape.members["Body"].metadata["max"]


class RuntimeHandlers:
    def __init__(self, backend: SageMakerBackend):
        self.backend = backend

    def invoke_endpoint(self, p: dict, region: str) -> dict:
        name, body = p["EndpointName"], p.get("Body") or b""
        if len(body) > MAX_PAYLOAD:
            raise AwsError("ValidationError", f"1 validation error detected: Value at 'body' failed to satisfy "
                           f"constraint: Member must have length less than or equal to {MAX_PAYLOAD}")
        try:
            variant, model = self.backend.live_model(name, p.get("TargetVariant"))
        except KeyError:
            raise AwsError("ValidationError", f"Endpoint {name} of account {ACCOUNT} not found.") from None
        except AwsError as err:
            raise AwsError("ValidationError", err.message) from None
        try:
            answer, answer_type = model.predict(body, p.get("ContentType"), p.get("Accept"))
        except ClientError as err:
            raise model_error(name, region, err.status, str(err)) from None
        except Exception as err:  # the model crashed: AWS reports the container's 500
            raise model_error(name, region, 500, f"{type(err).__name__}: {err}") from None
        return {"Body": answer, "ContentType": answer_type, "InvokedProductionVariant": variant}


def model_error(name: str, region: str, status: int, message: str) -> AwsError:
    return AwsError(
        "ModelError",
        f"Received {'client' if status < 500 else 'server'} error ({status}) from primary with "
        f"message \"{message}\". See CloudWatch Logs for /aws/sagemaker/Endpoints/{name}.",
        status=424, OriginalStatusCode=status, OriginalMessage=message,
        LogStreamArn=f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/{name}")
