"""SageMaker's built-in algorithms, each computed offline by an open-source equivalent.

An algorithm is recognised by the ECR repository of the image URI that
`sagemaker.image_uris.retrieve(...)` returns, e.g.
`382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1` -> linear-learner.
Each module of this package names its repositories in `REPOSITORIES`; see base.py for
what else a module provides.
"""
from __future__ import annotations

import importlib
import logging
import pkgutil
from types import ModuleType

from .base import ClientError, ServingAlgorithm, TrainingAlgorithm

def _registry() -> dict[str, str]:
    """ECR repository name -> module of this package, from each module's REPOSITORIES."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name in ("base", "formats") or info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"{__name__}.{info.name}")
        except Exception:  # one broken module must not take every algorithm down with it
            logging.getLogger("localaws").exception("algorithm module %s failed to import", info.name)
            continue
        if not hasattr(module, "REPOSITORIES"):
            continue  # a helper module of the algorithms (recordio, script_mode ...)
        if not isinstance(module, (TrainingAlgorithm, ServingAlgorithm)):
            logging.getLogger("localaws").error("algorithm module %s provides neither train() nor load() "
                                                "with its REPOSITORIES (see base.py)", info.name)
            continue
        for repository in getattr(module, "REPOSITORIES", ()):
            found[repository] = info.name
    return found


ALGORITHMS = _registry()


def repository_of(image_uri: str) -> str:
    """'123.dkr.ecr.r.amazonaws.com/sagemaker-xgboost:1.7-1' -> 'sagemaker-xgboost'."""
    path = image_uri.split("/", 1)[-1]
    return path.split("@", 1)[0].split(":", 1)[0]


def is_gpu(instance_type: str) -> bool:
    """ml.p* and ml.g* are SageMaker's GPU families (ml.p3.2xlarge, ml.g4dn.xlarge, ml.g5...)."""
    parts = instance_type.split(".")
    return len(parts) == 3 and parts[1][:1] in ("p", "g")


def check_training_instance(image_uri: str, instance_type: str | None) -> None:
    """The algorithm's own rule on training instances, refused at CreateTrainingJob as AWS does
    (a module's TRAINING_INSTANCES = "gpu"; e.g. image-classification: ValidationException
    "Instance type ml.c4.2xlarge is not supported by algorithm image-classification; only GPU
    instances are supported.", aws/amazon-sagemaker-examples#1951)."""
    repository = repository_of(image_uri)
    if not instance_type or repository not in ALGORITHMS:
        return
    module = importlib.import_module(f"{__name__}.{ALGORITHMS[repository]}")
    if getattr(module, "TRAINING_INSTANCES", "any") == "gpu" and not is_gpu(instance_type):
        from ...protocol import validation_error

        raise validation_error(f"Instance type {instance_type} is not supported by algorithm {repository}; "
                               "only GPU instances are supported.")


def for_image(image_uri: str) -> ModuleType:
    repository = repository_of(image_uri)
    if repository not in ALGORITHMS:
        raise ClientError(f"localaws cannot run image {image_uri!r}: it emulates the built-in "
                          f"algorithms {sorted(ALGORITHMS)}. Run this job on AWS instead.")
    return importlib.import_module(f"{__name__}.{ALGORITHMS[repository]}")
