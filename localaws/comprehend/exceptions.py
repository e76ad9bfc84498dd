"""Comprehend's error codes, as boto3 raises them."""
from __future__ import annotations

from ..protocol import AwsError


def invalid_request(message: str, reason: str | None = None) -> AwsError:
    extra = {"Reason": reason} if reason else {}
    return AwsError("InvalidRequestException", message, **extra)


def not_found(message: str) -> AwsError:
    return AwsError("ResourceNotFoundException", message)


def job_not_found(job_id: str) -> AwsError:
    return AwsError("JobNotFoundException", f"Job {job_id} was not found")


def in_use(message: str) -> AwsError:
    return AwsError("ResourceInUseException", message)


def unsupported_language(code: str) -> AwsError:
    return AwsError("UnsupportedLanguageException",
                    f"localaws's offline models read English only, not {code!r} "
                    "(Amazon Comprehend supports more languages)")


def text_too_large(limit: int) -> AwsError:
    return AwsError("TextSizeLimitExceededException",
                    f"Input text size exceeds limit. Max length of request text allowed is {limit} bytes")


def batch_too_large(limit: int) -> AwsError:
    return AwsError("BatchSizeLimitExceededException",
                    f"Batch size exceeds limit. Max number of documents allowed is {limit}")


def unavailable(message: str) -> AwsError:
    return AwsError("ResourceUnavailableException", message)
