"""Every algorithm module keeps the contract of algorithms/base.py, checked as typing.Protocols."""
from __future__ import annotations

import importlib
import types

import pytest

from localaws.sagemaker import algorithms
from localaws.sagemaker.algorithms.base import ServingAlgorithm, TrainingAlgorithm

MODULES = sorted(set(algorithms.ALGORITHMS.values()))


@pytest.mark.parametrize("name", MODULES)
def test_each_registered_module_trains_or_serves(name):
    module = importlib.import_module(f"localaws.sagemaker.algorithms.{name}")
    assert isinstance(module, TrainingAlgorithm) or isinstance(module, ServingAlgorithm)
    assert all(algorithms.ALGORITHMS[r] == name for r in module.REPOSITORIES)


def test_the_built_in_algorithms_both_train_and_serve():
    for repository in ("linear-learner", "xgboost", "kmeans", "factorization-machines", "blazingtext",
                       "image-classification"):
        module = algorithms.for_image(f"123.dkr.ecr.us-east-1.amazonaws.com/{repository}:1")
        assert isinstance(module, TrainingAlgorithm) and isinstance(module, ServingAlgorithm), repository


def test_a_module_missing_its_functions_satisfies_neither_protocol():
    broken = types.ModuleType("broken")
    broken.REPOSITORIES = ("broken",)
    broken.HYPERPARAMETERS = {}
    assert not isinstance(broken, TrainingAlgorithm) and not isinstance(broken, ServingAlgorithm)
    broken.load = lambda model_dir: None
    assert isinstance(broken, ServingAlgorithm) and not isinstance(broken, TrainingAlgorithm)
