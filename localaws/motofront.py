"""What localaws puts in front of moto's server (its own code stays untouched):

- S3's integrity check: a PUT whose Content-MD5 does not match its body is refused with
  S3's BadDigest (or InvalidDigest when the header is not a base64 MD5), as the S3 API
  reference's error list has it; moto 5.2.5 stores the object anyway.
- AWS errors instead of Flask's HTML page: when moto fails inside (a request it cannot
  parse), the client gets an AWS-shaped 500 (InternalFailure in JSON for JSON-protocol
  services, InternalError XML for S3 and the query services) that botocore can read.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import logging

S3_SCOPE = "/s3/aws4_request"


def _xml_error(code: str, message: str, s3: bool) -> bytes:
    inner = f"<Code>{code}</Code><Message>{message}</Message>"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + (f"<Error>{inner}</Error>" if s3 else f"<ErrorResponse><Error>{inner}</Error></ErrorResponse>")).encode()


class MotoFront:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        s3 = S3_SCOPE in environ.get("HTTP_AUTHORIZATION", "")
        if s3 and environ.get("REQUEST_METHOD") == "PUT" and environ.get("HTTP_CONTENT_MD5") \
                and "aws-chunked" not in environ.get("HTTP_CONTENT_ENCODING", ""):
            refusal = self._check_md5(environ)
            if refusal:
                start_response("400 Bad Request", [("Content-Type", "application/xml")])
                return [_xml_error(*refusal, s3=True)]
        recorded: list = []

        def record(status, headers, exc_info=None):
            recorded[:] = [status, headers, exc_info]
            return lambda data: None

        try:
            body = self.app(environ, record)
            if not recorded:  # an app that starts its response lazily: let it
                body = list(body)
        except Exception:  # moto raised instead of answering: werkzeug would send its HTML page
            logging.getLogger("localaws").exception("moto failed on %s %s", environ.get("REQUEST_METHOD"),
                                                    environ.get("PATH_INFO"))
            return self._internal(environ, start_response, s3)
        status, headers, exc_info = recorded
        html = any(k.lower() == "content-type" and "text/html" in v for k, v in headers)
        if status.startswith("500") and html:
            if hasattr(body, "close"):
                body.close()
            return self._internal(environ, start_response, s3)
        start_response(status, headers, exc_info)
        return body

    @staticmethod
    def _internal(environ, start_response, s3: bool):
        message = "moto could not process this request"
        if "HTTP_X_AMZ_TARGET" in environ or "json" in environ.get("CONTENT_TYPE", ""):
            start_response("500 Internal Server Error", [("Content-Type", "application/x-amz-json-1.1"),
                                                         ("x-amzn-ErrorType", "InternalFailure")])
            return [json.dumps({"__type": "InternalFailure", "message": message}).encode()]
        start_response("500 Internal Server Error", [("Content-Type", "application/xml")])
        return [_xml_error("InternalError", message, s3)]

    @staticmethod
    def _check_md5(environ) -> tuple[str, str] | None:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        data = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(data)
        try:
            claimed = base64.b64decode(environ["HTTP_CONTENT_MD5"], validate=True)
        except (binascii.Error, ValueError):
            claimed = b""
        if len(claimed) != 16:
            return "InvalidDigest", "The Content-MD5 you specified is not valid."
        if hashlib.md5(data).digest() != claimed:
            return "BadDigest", "The Content-MD5 you specified did not match what we received."
        return None
