"""SageMaker's error codes, with the messages AWS uses for the common cases."""
from ..protocol import AwsError


def not_found(message: str = "Requested resource not found.") -> AwsError:
    # SageMaker answers unknown names with ValidationException, not a 404
    return AwsError("ValidationException", message)


def in_use(message: str) -> AwsError:
    return AwsError("ResourceInUse", message)


def already_exists(kind: str) -> AwsError:
    return AwsError("ValidationException", f"Cannot create already existing {kind}.")


def invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message)
