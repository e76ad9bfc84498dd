"""Lex V2's error codes (lexv2-models and lexv2-runtime), with AWS's HTTP statuses."""
from ..protocol import AwsError


def not_found(message: str) -> AwsError:
    return AwsError("ResourceNotFoundException", message, status=404)


def parent_missing(kind: str, name: str) -> AwsError:
    # AWS answers a create/update under a missing bot, locale or intent with 412
    return AwsError("PreconditionFailedException",
                    f"Failed to retrieve parent resource since {kind} {name} does not exist", status=412)


def conflict(message: str) -> AwsError:
    return AwsError("ConflictException", message, status=409)


def invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message)
