"""Athena's error codes: API errors raise; query errors end the query FAILED."""
from __future__ import annotations

from ..protocol import AwsError


def invalid_request(message: str, code: str = "INVALID_INPUT") -> AwsError:
    return AwsError("InvalidRequestException", message, AthenaErrorCode=code)


class QueryFailed(Exception):
    """The query ran and failed: its state becomes FAILED with this reason, as on AWS."""

    def __init__(self, error_name: str, message: str, category: int = 2):
        super().__init__(f"{error_name}: {message}")
        self.category = category  # 1 system, 2 user, 3 other (AthenaError.ErrorCategory)
