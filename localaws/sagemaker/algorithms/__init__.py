"""SageMaker's built-in algorithms, each computed offline by an open-source equivalent.

An algorithm is recognised by the ECR repository of the image URI that
`sagemaker.image_uris.retrieve(...)` returns, e.g.
`382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1` -> linear-learner.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from .base import ClientError

# ECR repository name -> module of this package that computes it
ALGORITHMS = {
    "linear-learner": "linear_learner",
}


def repository_of(image_uri: str) -> str:
    """'123.dkr.ecr.r.amazonaws.com/sagemaker-xgboost:1.7-1' -> 'sagemaker-xgboost'."""
    path = image_uri.split("/", 1)[-1]
    return path.split("@", 1)[0].split(":", 1)[0]


def for_image(image_uri: str) -> ModuleType:
    repository = repository_of(image_uri)
    if repository not in ALGORITHMS:
        raise ClientError(f"localaws cannot run image {image_uri!r}: it emulates the built-in "
                          f"algorithms {sorted(ALGORITHMS)}. Run this job on AWS instead.")
    return importlib.import_module(f"{__name__}.{ALGORITHMS[repository]}")
