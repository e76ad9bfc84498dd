"""Emulated Amazon Comprehend: pre-trained text analysis and custom document classifiers.

moto answers Comprehend with fixed fake data, so localaws computes the answers itself:
entities, key phrases, sentiment and language with open models shipped in PyPI packages
(nlp.py), custom classifiers trained for real by scikit-learn (classifier.py), their
classification jobs reading from and writing to (moto's) S3 (models.py).
"""
from __future__ import annotations

from ..protocol import front_ends
from .models import ComprehendBackend
from .responses import ComprehendResponses


def build(emulator) -> dict:
    backend = ComprehendBackend(emulator.s3, emulator.sync_seconds)
    services = {}
    for i, front_end in enumerate(front_ends("comprehend", ComprehendResponses(backend), strict=emulator.strict)):
        front_end.endpoint_variables = ("AWS_ENDPOINT_URL_COMPREHEND",)
        front_end.leftovers = backend.leftovers
        front_end.clear_leftovers = backend.clear_leftovers
        services[f"comprehend-{i}" if i else "comprehend"] = front_end
    return services
