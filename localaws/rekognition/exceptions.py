"""Rekognition's error codes for bad images and parameters, with AWS's messages."""
from ..protocol import AwsError


def invalid_format() -> AwsError:
    return AwsError("InvalidImageFormatException", "Request has invalid image format")


def too_large(limit_mb: int) -> AwsError:
    return AwsError("ImageTooLargeException", f"Image size is too large: the limit is {limit_mb} MB for this source.")


def too_many_pixels(operation: str, limit: int) -> AwsError:
    return AwsError("ImageTooLargeException", f"The input image resolution exceeds the allowed limit: "
                    f"{operation} takes at most {limit} pixels for both width and height.")


def invalid_s3_object() -> AwsError:
    return AwsError("InvalidS3ObjectException",
                    "Unable to get object metadata from S3. Check object key, region and/or access permissions.")


def invalid_parameter(message: str = "Request has invalid parameters") -> AwsError:
    return AwsError("InvalidParameterException", message)


def no_offline_model(operation: str, what: str) -> AwsError:
    return AwsError("UnknownOperationException", f"localaws cannot compute {operation}: no model for {what} "
                    "ships in a Python package it can load offline. Run this step against AWS.")


def model_missing(operation: str, why: str) -> AwsError:
    """This installation lacks a model file the operation needs (weights.py says how to get it)."""
    return AwsError("UnknownOperationException", f"localaws cannot compute {operation} here: {why}")
