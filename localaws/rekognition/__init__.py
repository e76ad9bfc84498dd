"""Emulated Amazon Rekognition: every image operation computed by offline models.

moto's Rekognition returns fixed fake labels and has no DetectFaces; localaws answers
instead: MTCNN faces (models.py) with their attributes (attributes.py), an 80-class object
detector for labels (labels.py), OCR (text.py), face embeddings (compare.py) and an
unsafe-content classifier (moderation.py). Each module says what its model can and cannot
do against AWS's; RecognizeCelebrities has no offline model and says so. Models load on
first use, never at start-up (importing this package's modules costs under 10 ms), and
stay loaded; weights.py fetches the files no package installs.

First and later calls, measured on the project's 2-core machine while other jobs ran:
DetectLabels 0.3 s the first time, 0.07 s after (with people in the picture the face
detector's TensorFlow import makes the first 6 s); DetectFaces with ALL 10 s the first
time (TensorFlow and the three attribute networks), 0.4 s after; DetectText 4.4 s, then
about 1 s a page; CompareFaces 9 s, then 0.3 s; DetectModerationLabels 0.4 s, then 0.07 s.
"""
from __future__ import annotations


def build(emulator) -> dict:
    from ..protocol import front_ends
    from .responses import RekognitionResponses

    services = {}
    for i, front_end in enumerate(front_ends("rekognition", RekognitionResponses(emulator.s3), strict=emulator.strict)):
        front_end.endpoint_variables = ("AWS_ENDPOINT_URL_REKOGNITION",)
        services[f"rekognition-{i}" if i else "rekognition"] = front_end
    return services
