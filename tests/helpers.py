"""Small helpers shared by the unit tests (the session's localaws is already running)."""
from __future__ import annotations

import io
import os
import time

import boto3
import numpy as np

from localaws.emulator import ACCOUNT, ROLE_ARN

LINEAR_LEARNER = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"


def client(service: str, **kwargs):
    """A client of the emulator's API as an administrator, for tests of operations no notebook
    needs (the notebooks, and the SDK in these tests, run as the reader's role)."""
    return boto3.client(service, region_name="us-east-1", **{**administrator(), **kwargs})


def administrator() -> dict:
    from localaws import iam

    if iam.CHECKER is None or iam.CHECKER.mode == "off":  # IAM off, or the emulator is another process
        return {}
    return iam.administrator_credentials(ACCOUNT)


def sagemaker_role() -> str:
    """The reader's role, as the notebooks take it (the course role when IAM is on)."""
    return os.environ.get("SAGEMAKER_ROLE_ARN", ROLE_ARN)


def comprehend_role() -> str:
    """The role Comprehend may act as (course_iam: it trusts comprehend.amazonaws.com)."""
    return f"arn:aws:iam::{ACCOUNT}:role/MasteringML-ComprehendDataAccessRole"


def lex_role() -> str:
    """Lex V2's service-linked role, created once as chapter 12 does."""
    iam = client("iam")
    roles = iam.list_roles(PathPrefix="/aws-service-role/lexv2.amazonaws.com/")["Roles"]
    if roles:
        return roles[0]["Arn"]
    return iam.create_service_linked_role(AWSServiceName="lexv2.amazonaws.com")["Role"]["Arn"]


def signed(request, service: str):
    """A urllib request signed with the environment's credentials (SigV4), as boto3 signs."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    aws = AWSRequest(method=request.get_method(), url=request.full_url, data=request.data,
                     headers=dict(request.header_items()))
    SigV4Auth(Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"],
                          os.environ.get("AWS_SESSION_TOKEN")), service, "us-east-1").add_auth(aws)
    for name, value in aws.headers.items():
        request.add_header(name, value)
    return request


def unique(prefix: str) -> str:
    return f"{prefix}-{time.time_ns() % 10**12}"


def make_bucket(s3=None) -> str:
    s3 = s3 or client("s3")
    name = unique("sagemaker-test")  # the tests run as the reader, whose S3 access is *sagemaker* buckets
    s3.create_bucket(Bucket=name)
    return name


def csv_bytes(matrix: np.ndarray) -> bytes:
    out = io.StringIO()
    np.savetxt(out, matrix, delimiter=",", fmt="%.6g")
    return out.getvalue().encode()


def regression_data(n: int = 300, d: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ np.arange(1, d + 1) + 3 + rng.normal(scale=0.3, size=n)
    return X, y


def training_job_request(name: str, bucket: str, hyperparameters: dict, image: str = LINEAR_LEARNER,
                         channels: dict[str, str] | None = None) -> dict:
    channels = channels or {"train": f"s3://{bucket}/train/"}
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "RoleArn": sagemaker_role(),
        "HyperParameters": hyperparameters,
        "InputDataConfig": [{"ChannelName": ch, "ContentType": "text/csv",
                             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}}}
                            for ch, uri in channels.items()],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
