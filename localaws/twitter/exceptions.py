"""Twitter API v1.1 errors, as the API sends them: an HTTP status and
`{"errors": [{"code": N, "message": "..."}]}`."""
from __future__ import annotations


class TwitterError(Exception):
    def __init__(self, status: int, code: int, message: str, label: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.label = status, code, message, label

    def body(self) -> dict:
        error = {"code": self.code, "message": self.message}
        if self.label:
            error["label"] = self.label
        return {"errors": [error]}


def page_does_not_exist() -> TwitterError:
    return TwitterError(404, 34, "Sorry, that page does not exist.")


def bad_authentication_data() -> TwitterError:
    return TwitterError(400, 215, "Bad Authentication data.")


def invalid_token() -> TwitterError:
    return TwitterError(401, 89, "Invalid or expired token.")


def unable_to_verify_credentials() -> TwitterError:
    return TwitterError(403, 99, "Unable to verify your credentials", "authenticity_token_error")


def missing_parameter(name: str) -> TwitterError:
    return TwitterError(400, 38, f"{name} parameter is missing.")


def invalid_parameter(name: str) -> TwitterError:
    return TwitterError(400, 44, f"{name} parameter is invalid.")
