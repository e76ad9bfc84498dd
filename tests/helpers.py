"""Small helpers shared by the unit tests (the session's localaws is already running)."""
from __future__ import annotations

import io
import time

import boto3
import numpy as np

from localaws.emulator import ROLE_ARN

LINEAR_LEARNER = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"


def client(service: str, **kwargs):
    return boto3.client(service, region_name="us-east-1", **kwargs)


def unique(prefix: str) -> str:
    return f"{prefix}-{time.time_ns() % 10**12}"


def make_bucket(s3=None) -> str:
    s3 = s3 or client("s3")
    name = unique("test-bucket")
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
        "RoleArn": ROLE_ARN,
        "HyperParameters": hyperparameters,
        "InputDataConfig": [{"ChannelName": ch, "ContentType": "text/csv",
                             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}}}
                            for ch, uri in channels.items()],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
