"""SageMaker Runtime's InvokeEndpoint (rest-json: POST /endpoints/{EndpointName}/invocations).

The endpoint's loaded model answers. As on AWS, an unknown endpoint is a
`ValidationError`, and a request the model rejects is a `ModelError` (HTTP 424) carrying
the container's own status code and message.
"""
from __future__ import annotations

from ..protocol import AwsError
from .algorithms.base import ClientError
from .models import ACCOUNT, SageMakerBackend

MAX_PAYLOAD = 25 * 1024 * 1024  # real-time inference accepts up to 25 MB


class RuntimeHandlers:
    def __init__(self, backend: SageMakerBackend):
        self.backend = backend

    def invoke_endpoint(self, p: dict, region: str) -> dict:
        name, body = p["EndpointName"], p.get("Body") or b""
        if len(body) > MAX_PAYLOAD:
            raise AwsError("ValidationError", f"Request payload is larger than {MAX_PAYLOAD} bytes")
        try:
            variant, model = self.backend.live_model(name, p.get("TargetVariant"))
        except KeyError:
            raise AwsError("ValidationError", f"Endpoint {name} of account {ACCOUNT} not found.") from None
        except AwsError as err:
            raise AwsError("ValidationError", err.message) from None
        try:
            answer, answer_type = model.predict(body, p.get("ContentType"), p.get("Accept"))
        except ClientError as err:
            raise model_error(name, region, 400, str(err)) from None
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
