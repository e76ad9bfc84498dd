"""SageMaker Runtime: POST /endpoints/{EndpointName}/invocations (rest-json protocol).

The endpoint's loaded model answers. As on AWS, an unknown endpoint is a
`ValidationError`, and a request the model rejects is a `ModelError` (HTTP 424) carrying
the container's own status code and message.
"""
from __future__ import annotations

import re
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from ..protocol import AwsError, json_error
from .algorithms.base import ClientError
from .models import ACCOUNT, SageMakerBackend

PATH = re.compile(r"^/endpoints/(?P<name>[^/]+)/invocations$")
MAX_PAYLOAD = 25 * 1024 * 1024  # real-time inference accepts up to 25 MB (raised from 6 MB)


class RuntimeService:
    def __init__(self, backend: SageMakerBackend):
        self.backend = backend

    def matches(self, request: Request) -> bool:
        return request.method == "POST" and bool(PATH.match(request.path))

    def __call__(self, request: Request) -> Response:
        name = unquote(PATH.match(request.path).group("name"))
        try:
            body = request.get_data()
            if len(body) > MAX_PAYLOAD:
                raise AwsError("ValidationError", f"Request payload is larger than {MAX_PAYLOAD} bytes")
            try:
                variant, model = self.backend.live_model(
                    name, request.headers.get("X-Amzn-SageMaker-Target-Variant"))
            except KeyError:
                raise AwsError("ValidationError", f"Endpoint {name} of account {ACCOUNT} not found.")
            except AwsError as err:
                raise AwsError("ValidationError", err.message)
            content_type = request.headers.get("Content-Type")
            accept = request.headers.get("Accept")
            try:
                answer, answer_type = model.predict(body, content_type, accept)
            except ClientError as err:
                raise self._model_error(name, 400, str(err))
            except Exception as err:  # the model crashed: AWS reports the container's 500
                raise self._model_error(name, 500, f"{type(err).__name__}: {err}")
            return Response(answer, content_type=answer_type,
                            headers={"x-Amzn-Invoked-Production-Variant": variant})
        except AwsError as err:
            return json_error(err, "application/json")

    @staticmethod
    def _model_error(name: str, status: int, message: str) -> AwsError:
        return AwsError(
            "ModelError",
            f"Received {'client' if status < 500 else 'server'} error ({status}) from primary with "
            f"message \"{message}\". See CloudWatch Logs for /aws/sagemaker/Endpoints/{name}.",
            status=424, OriginalStatusCode=status, OriginalMessage=message,
            LogStreamArn=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/{name}")
