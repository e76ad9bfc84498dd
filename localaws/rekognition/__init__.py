"""Emulated Amazon Rekognition: DetectFaces and DetectLabels computed by offline models.

moto's Rekognition returns fixed fake labels and has no DetectFaces; localaws answers
instead, with MTCNN (faces and landmarks) and numpy/scikit-learn image statistics. What
differs from AWS is listed in models.py; operations with no offline model say so.
"""
from __future__ import annotations

from ..protocol import front_ends
from .responses import RekognitionResponses


def build(emulator) -> dict:
    services = {}
    for i, front_end in enumerate(front_ends("rekognition", RekognitionResponses(emulator.s3), strict=emulator.strict)):
        front_end.endpoint_variables = ("AWS_ENDPOINT_URL_REKOGNITION",)
        services[f"rekognition-{i}" if i else "rekognition"] = front_end
    return services
