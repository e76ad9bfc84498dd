"""SageMaker Runtime's InvokeEndpoint (rest-json: POST /endpoints/{EndpointName}/invocations)
and InvokeEndpointAsync (POST /endpoints/{EndpointName}/async-invocations).

The endpoint's loaded model answers. As on AWS, an unknown endpoint is a
`ValidationError`, and a request the model rejects is a `ModelError` (HTTP 424) carrying
the container's own status code and message.

Asynchronous inference follows the contract botocore's model documents: the request comes
inline (`Body`, at most 128,000 bytes) or from S3 (`InputLocation`), exactly one of them;
the answer goes to `<S3OutputPath>[/<S3OutputPathExtension>]/<Filename or InferenceId.out>`
of the endpoint configuration's AsyncInferenceConfig, and a failure to
`<S3FailurePath>/.../<InferenceId>-error.out`. AWS queues the request and answers 202 at
once; localaws processes it before answering (the documentation allows either: "may or may
not complete before you receive a response"), so the output is there when the call returns.
"""
from __future__ import annotations

import uuid

from ..protocol import AwsError, operation_model
from .algorithms.base import ClientError
from .models import SageMakerBackend
from .resources import ACCOUNT

# the request body's limit in botocore's model of InvokeEndpoint (BodyBlob, max 6291456:
# 6 MB); botocore does not check blob lengths on the client, so the service refuses it
MAX_PAYLOAD = operation_model("sagemaker-runtime", "InvokeEndpoint").input_shape.members["Body"].metadata["max"]
MAX_ASYNC_BODY = operation_model("sagemaker-runtime", "InvokeEndpointAsync").input_shape.members["Body"].metadata["max"]


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
            answer, answer_type = model.predict(body, p.get("ContentType"), p.get("Accept"), p.get("CustomAttributes"))
        except ClientError as err:
            raise model_error(name, region, err.status, str(err)) from None
        except Exception as err:  # the model crashed: AWS reports the container's 500
            raise model_error(name, region, 500, f"{type(err).__name__}: {err}") from None
        return {"Body": answer, "ContentType": answer_type, "InvokedProductionVariant": variant}

    def invoke_endpoint_async(self, p: dict, region: str) -> dict:
        name, body, location = p["EndpointName"], p.get("Body") or None, p.get("InputLocation")
        if (body is None) == (location is None):  # botocore's documentation of Body
            raise AwsError("ValidationError", "Body and InputLocation are mutually exclusive. Provide exactly one of them.")
        if body is not None and len(body) > MAX_ASYNC_BODY:
            raise AwsError("ValidationError", f"1 validation error detected: Value at 'body' failed to satisfy "
                           f"constraint: Member must have length less than or equal to {MAX_ASYNC_BODY}")
        try:
            variant, model = self.backend.live_model(name, None)
        except KeyError:
            raise AwsError("ValidationError", f"Endpoint {name} of account {ACCOUNT} not found.") from None
        config = self.backend.endpoint_config(self.backend.endpoint(name)["EndpointConfigName"])
        output_config = (config.get("AsyncInferenceConfig") or {}).get("OutputConfig")
        if output_config is None:
            raise AwsError("ValidationError", f"Endpoint {name} of account {ACCOUNT} is not configured for "
                           "asynchronous inference (its endpoint configuration has no AsyncInferenceConfig).")
        inference_id = p.get("InferenceId") or str(uuid.uuid4())
        extension = p.get("S3OutputPathExtension", "").strip("/")

        def under(prefix: str, file_name: str) -> str:
            return "/".join(part for part in (prefix.rstrip("/"), extension, file_name) if part)

        answer: dict = {"InferenceId": inference_id}
        if output_config.get("S3OutputPath"):
            answer["OutputLocation"] = under(output_config["S3OutputPath"], p.get("Filename") or f"{inference_id}.out")
        if output_config.get("S3FailurePath"):
            answer["FailureLocation"] = under(output_config["S3FailurePath"], f"{inference_id}-error.out")
        try:
            request = body if body is not None else self.backend.s3.read(location)
            result, _ = model.predict(request, p.get("ContentType"), p.get("Accept"), p.get("CustomAttributes"))
        except Exception as err:  # the container's error goes to the failure path, not to the caller
            if "FailureLocation" in answer:
                self.backend.s3.write(answer["FailureLocation"], f"{type(err).__name__}: {err}".encode())
            return answer
        if "OutputLocation" in answer:
            self.backend.s3.write(answer["OutputLocation"], result if isinstance(result, bytes) else result.encode())
        return answer


def model_error(name: str, region: str, status: int, message: str) -> AwsError:
    return AwsError(
        "ModelError",
        f"Received {'client' if status < 500 else 'server'} error ({status}) from primary with "
        f"message \"{message}\". See CloudWatch Logs for /aws/sagemaker/Endpoints/{name}.",
        status=424, OriginalStatusCode=status, OriginalMessage=message,
        LogStreamArn=f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/{name}")
