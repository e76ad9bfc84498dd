"""The AWS wire protocols our services speak, driven by botocore's own service models.

Requests are validated against the operation's input shape (so a malformed request gets
the `ValidationException` a real client expects), and in strict mode every response is
checked against the output shape before it is sent, so the emulator cannot drift from
what boto3 and the SageMaker SDK parse.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import re
from typing import Any

import botocore.session
from botocore.model import OperationModel, Shape
from botocore.validate import ParamValidator
from werkzeug.wrappers import Request, Response

class AwsError(Exception):
    """An error AWS would return: an error code, a message, an HTTP status and extra fields."""

    def __init__(self, code: str, message: str, status: int = 400, **fields: Any):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status, self.fields = code, message, status, fields


def validation_error(message: str) -> AwsError:
    return AwsError("ValidationException", message)


@functools.lru_cache(maxsize=None)
def service_model(service: str):
    return botocore.session.get_session().get_service_model(service)


def operation_model(service: str, operation: str) -> OperationModel:
    model = service_model(service)
    if operation not in model.operation_names:
        raise AwsError("UnknownOperationException", f"Unknown operation {operation}")
    return model.operation_model(operation)


def validate_input(op: OperationModel, params: dict) -> None:
    """Raise ValidationException when params do not fit the operation's input shape."""
    if op.input_shape is None:
        return
    report = ParamValidator().validate(params, op.input_shape)
    if report.has_errors():
        raise validation_error(report.generate_report().replace("\n", " "))


def check_output(op: OperationModel, body: Any) -> list[str]:
    """Problems with `body` as a response of `op`: unknown members, wrong types, missing
    required members. Empty when the response fits the service model."""
    problems: list[str] = []
    if op.output_shape is not None:
        _check(op.output_shape, body, op.name, problems)
    return problems


_TYPES = {
    "string": str, "boolean": bool, "integer": int, "long": int,
    "float": (int, float), "double": (int, float), "blob": (bytes, str),
}


def _check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        members = shape.members
        for name in value:
            if name not in members:
                problems.append(f"{path}.{name}: not in the service model")
        for name in shape.required_members:
            if name not in value and members[name].serialization.get("location") is None:
                problems.append(f"{path}.{name}: required but missing")
        for name, item in value.items():
            if name in members:
                _check(members[name], item, f"{path}.{name}", problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list")
            return
        for i, item in enumerate(value):
            _check(shape.member, item, f"{path}[{i}]", problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a map")
            return
        for key, item in value.items():
            _check(shape.value, item, f"{path}[{key}]", problems)
    elif kind == "timestamp":
        if not isinstance(value, (int, float, dt.datetime)):
            problems.append(f"{path}: expected a timestamp")
    elif kind in _TYPES:
        if not isinstance(value, _TYPES[kind]) or (kind != "boolean" and isinstance(value, bool)):
            problems.append(f"{path}: expected {kind}, got {type(value).__name__}")
        elif kind == "string" and shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.enum}")


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return value.decode()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(body: Any) -> str:
    return json.dumps(body, default=_json_default)


def region_of(request: Request) -> str:
    """The region the client signed the request for (falls back to us-east-1)."""
    match = re.search(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/", request.headers.get("Authorization", ""))
    return match.group(1) if match else "us-east-1"


def json_error(err: AwsError, content_type: str = "application/x-amz-json-1.1") -> Response:
    body = {"__type": err.code, "message": err.message, **err.fields}
    return Response(dumps(body), status=err.status, content_type=content_type,
                    headers={"x-amzn-ErrorType": err.code})


class JsonProtocolService:
    """A service speaking AWS's JSON protocol: POST /, operation named by X-Amz-Target.

    `handlers` has one method per operation, in snake_case (create_training_job for
    CreateTrainingJob), taking the request's parameters as a dict and the region.
    """

    def __init__(self, service: str, handlers: Any, strict: bool = False):
        self.service = service
        self.handlers = handlers
        self.strict = strict
        model = service_model(service)
        self.target_prefix = model.metadata["targetPrefix"]
        self.json_version = model.metadata.get("jsonVersion", "1.1")

    def matches(self, request: Request) -> bool:
        return request.headers.get("X-Amz-Target", "").startswith(self.target_prefix + ".")

    def __call__(self, request: Request) -> Response:
        content_type = f"application/x-amz-json-{self.json_version}"
        operation = request.headers["X-Amz-Target"].split(".", 1)[1]
        try:
            op = operation_model(self.service, operation)
            try:
                params = json.loads(request.get_data() or b"{}")
            except ValueError:
                raise AwsError("SerializationException", "The request body is not valid JSON")
            validate_input(op, params)
            method = getattr(self.handlers, _snake(operation), None)
            if method is None:
                raise AwsError("UnknownOperationException",
                               f"localaws does not emulate {self.service} {operation}; "
                               "run this step against AWS", status=400)
            body = method(params, region_of(request)) or {}
            if self.strict:
                problems = check_output(op, json.loads(dumps(body)))
                if problems:
                    raise AwsError("InternalFailure", "localaws response does not fit the "
                                   f"service model: {problems[:5]}", status=500)
            return Response(dumps(body), content_type=content_type)
        except AwsError as err:
            return json_error(err, content_type)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
