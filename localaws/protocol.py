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
from urllib.parse import unquote

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


def offset_page(items: list, token: str | None, max_results: int | None, default_size: int,
                invalid_token: AwsError | None = None) -> tuple[list, str | None]:
    """One page of a List* answer whose next token is the offset of the next item.

    Returns the page and the next token (None on the last page). A token that is not an
    offset raises `invalid_token` (the service's own error) or a ValidationException."""
    token = token or "0"
    if not str(token).isdigit():
        raise invalid_token or validation_error("The pagination token is not valid")
    start, size = int(token), max_results or default_size
    return items[start:start + size], (str(start + size) if start + size < len(items) else None)


def token_page(items: list, params: dict, default_size: int, unique: str | list[str],
               token_key: str = "NextToken", limit_key: str = "MaxResults",
               invalid_token: AwsError | None = None) -> tuple[list, str | None]:
    """One page of a List* answer, paged by moto's Paginator (moto.utilities.paginator): the
    token names the next item by its `unique` attribute(s) and carries a checksum of the
    request's other parameters, so a token reused with other filters is refused, as AWS
    refuses a token it did not issue for that request. `invalid_token` is the service's own
    error for a bad token (default: ValidationException)."""
    from moto.core.exceptions import InvalidToken
    from moto.utilities.paginator import Paginator

    others = {k: v for k, v in params.items() if k not in (token_key, limit_key)}
    try:
        return Paginator(max_results=params.get(limit_key), max_results_default=default_size,
                         starting_token=params.get(token_key), unique_attribute=unique,
                         param_values_to_check=others).paginate(items)
    except InvalidToken:
        raise invalid_token or validation_error("The pagination token is not valid") from None


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
    from .constraints import message, violations

    errors = violations(op.input_shape, params)
    if errors:  # enums, lengths, ranges, patterns, in AWS's words
        raise validation_error(message(errors))
    report = ParamValidator().validate(params, op.input_shape)  # types and required members
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


class _Operations:
    """Shared by every protocol: find the handler, validate, call, check the answer."""

    def __init__(self, service: str, handlers: Any, strict: bool = False):
        self.service, self.handlers, self.strict = service, handlers, strict
        self.model = service_model(service)

    def invoke(self, operation: str, params: dict, region: str, request: Request | None = None,
               ) -> tuple[OperationModel, Any]:
        op = operation_model(self.service, operation)
        if request is not None:  # IAM first, as AWS checks the caller before the request
            from .iam import authorize

            authorize(request, operation, params, json_protocol=not isinstance(self, RestJsonService))
        validate_input(op, params)
        method = getattr(self.handlers, _snake(operation), None)
        if method is None:
            raise AwsError("UnknownOperationException",
                           f"localaws does not emulate {self.service} {operation}; "
                           "run this step against AWS", status=400)
        body = method(params, region) or {}
        if self.strict:
            problems = check_output(op, json.loads(dumps(_without_blobs(op, body))))
            if problems:
                raise AwsError("InternalFailure", "localaws response does not fit the "
                               f"service model: {problems[:5]}", status=500)
        return op, body


def _without_blobs(op: OperationModel, body: dict) -> dict:
    """Raw payload members (bytes) are not JSON: leave them out of the strict check."""
    return {k: ("" if isinstance(v, (bytes, bytearray)) else v) for k, v in body.items()}


class JsonProtocolService(_Operations):
    """A service speaking AWS's JSON protocol: POST /, operation named by X-Amz-Target.

    `handlers` has one method per operation, in snake_case (create_training_job for
    CreateTrainingJob), taking the request's parameters as a dict and the region.
    """

    def __init__(self, service: str, handlers: Any, strict: bool = False):
        super().__init__(service, handlers, strict)
        self.target_prefix = self.model.metadata["targetPrefix"]
        self.json_version = self.model.metadata.get("jsonVersion", "1.1")

    def matches(self, request: Request) -> bool:
        return request.headers.get("X-Amz-Target", "").startswith(self.target_prefix + ".")

    def __call__(self, request: Request) -> Response:
        content_type = f"application/x-amz-json-{self.json_version}"
        try:
            params = _json_body(request.get_data() or b"{}")
            operation = request.headers["X-Amz-Target"].split(".", 1)[1]
            _, body = self.invoke(operation, params, region_of(request), request)
            return Response(dumps(body), content_type=content_type)
        except AwsError as err:
            return json_error(err, content_type)


class RpcV2CborService(_Operations):
    """Smithy RPC v2 CBOR (boto3's default for some services, e.g. Comprehend):
    POST /service/<targetPrefix>/operation/<Operation>, CBOR bodies."""

    def __init__(self, service: str, handlers: Any, strict: bool = False):
        super().__init__(service, handlers, strict)
        self.prefix = f"/service/{self.model.metadata['targetPrefix']}/operation/"

    def matches(self, request: Request) -> bool:
        return request.method == "POST" and request.path.startswith(self.prefix)

    def __call__(self, request: Request) -> Response:
        import cbor2

        headers = {"smithy-protocol": "rpc-v2-cbor"}
        try:
            try:
                data = request.get_data()
                params = cbor2.loads(data) if data else {}
            except Exception:
                raise AwsError("SerializationException", "The request body is not valid CBOR")
            _, body = self.invoke(request.path[len(self.prefix):], params, region_of(request), request)
            return Response(cbor2.dumps(body, datetime_as_timestamp=True, timezone=dt.timezone.utc),
                            content_type="application/cbor", headers=headers)
        except AwsError as err:
            payload = {"__type": err.code, "message": err.message, **err.fields}
            return Response(cbor2.dumps(payload), status=err.status, content_type="application/cbor",
                            headers={**headers, "x-amzn-ErrorType": err.code})


class RestJsonService(_Operations):
    """A rest-json service (Lex V2, SageMaker Runtime ...): each operation has its own method
    and URI template in botocore's model; parameters come from the path, query string,
    headers and JSON body, and go back the same way."""

    def __init__(self, service: str, handlers: Any, strict: bool = False):
        super().__init__(service, handlers, strict)
        self.routes = []
        for name in self.model.operation_names:
            if hasattr(handlers, _snake(name)):
                http = self.model.operation_model(name).http
                path = http["requestUri"].split("?", 1)[0]
                pattern = re.sub(r"\\{(\w+)\\\+\\}", r"(?P<\1>.+)", re.escape(path))
                pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", pattern)
                self.routes.append((http["method"], re.compile(f"^{pattern.rstrip('/')}/?$"), name))

    def _route(self, request: Request):
        for method, pattern, name in self.routes:
            match = pattern.match(request.path)
            if method == request.method and match:
                return name, match.groupdict()
        return None, None

    def matches(self, request: Request) -> bool:
        return self._route(request)[0] is not None

    def __call__(self, request: Request) -> Response:
        name, uri = self._route(request)
        try:
            op = operation_model(self.service, name)
            params = self._parse(op, request, uri)
            op, body = self.invoke(name, params, region_of(request), request)
            return self._serialise(op, body)
        except AwsError as err:
            return json_error(err, "application/json")

    @staticmethod
    def _parse(op: OperationModel, request: Request, uri: dict) -> dict:
        shape = op.input_shape
        if shape is None:
            return {}
        params: dict = {}
        payload = shape.serialization.get("payload")
        body_members = {}
        for member, member_shape in shape.members.items():
            location = member_shape.serialization.get("location")
            wire = member_shape.serialization.get("name", member)
            if location == "uri" and wire in uri:
                params[member] = _scalar(member_shape, unquote(uri[wire]))
            elif location == "querystring" and wire in request.args:
                values = request.args.getlist(wire)
                params[member] = values if member_shape.type_name == "list" else _scalar(member_shape, values[0])
            elif location == "header" and wire in request.headers:
                params[member] = _scalar(member_shape, request.headers[wire])
            elif location is None:
                body_members[member] = member_shape
        raw = request.get_data()
        if payload:
            if shape.members[payload].type_name in ("blob", "string"):
                params[payload] = raw
            elif raw:
                params[payload] = _json_body(raw)
        elif raw and body_members:
            params.update({k: v for k, v in _json_body(raw).items() if k in body_members})
        return params

    @staticmethod
    def _serialise(op: OperationModel, body: dict) -> Response:
        shape = op.output_shape
        status, headers, content, content_type = op.http.get("responseCode", 200), {}, {}, "application/json"
        payload = shape.serialization.get("payload") if shape is not None else None
        for member, value in body.items():
            member_shape = shape.members.get(member) if shape is not None else None
            location = member_shape.serialization.get("location") if member_shape is not None else None
            if location == "header":
                headers[member_shape.serialization.get("name", member)] = str(value)
            elif location == "statusCode":
                status = int(value)
            elif member != payload:
                content[member] = value
        if payload and payload in body:
            value = body[payload]
            if isinstance(value, (bytes, bytearray, str)):
                data = value
                content_type = headers.pop("Content-Type", "application/octet-stream")
            else:
                data = dumps(value)
        else:
            data = dumps(content)
        return Response(data, status=status, content_type=headers.pop("Content-Type", content_type),
                        headers=headers)


def front_ends(service: str, handlers: Any, strict: bool = False) -> list:
    """One front end per wire protocol the service's model lists (e.g. Comprehend speaks both
    JSON, which boto3 prefers, and RPC v2 CBOR), all calling the same handlers."""
    kinds = {"json": JsonProtocolService, "smithy-rpc-v2-cbor": RpcV2CborService, "rest-json": RestJsonService}
    metadata = service_model(service).metadata
    protocols = metadata.get("protocols") or [metadata["protocol"]]
    return [kinds[p](service, handlers, strict) for p in protocols if p in kinds]


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")


def load_json(raw: bytes) -> Any:
    """A request body as JSON, or SerializationException: not JSON (NaN and Infinity are not),
    nested deeper than Python can parse, or strings that are not Unicode (lone surrogates)."""
    try:
        value = json.loads(raw, parse_constant=_not_json)
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError, UnicodeError):
        raise AwsError("SerializationException", "The request body is not valid JSON") from None
    return value


def _json_body(raw: bytes) -> dict:
    value = load_json(raw)
    if not isinstance(value, dict):
        raise AwsError("SerializationException", "The request body must be a JSON object")
    return value


def _scalar(shape: Shape, text: str) -> Any:
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
    except ValueError:
        raise validation_error(f"{shape.name}: {text!r} is not a number") from None
    if kind == "boolean":
        return text.lower() == "true"
    return text


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
