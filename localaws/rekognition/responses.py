"""Rekognition requests -> image -> offline models -> responses."""
from __future__ import annotations

from . import exceptions, images, models


class RekognitionResponses:
    def __init__(self, s3):
        self.s3 = s3
        self.faces = models.FaceDetector()

    def _faces(self, pixels):
        return models.face_details(self.faces.detect(pixels), pixels)

    def detect_faces(self, params, region):
        pixels = images.load(params["Image"], self.s3)
        # DEFAULT and ALL give the same offline: MTCNN estimates none of ALL's extra attributes
        return {"FaceDetails": self._faces(pixels)}

    def detect_labels(self, params, region):
        min_confidence = params.get("MinConfidence", 55.0)
        if not 0 <= min_confidence <= 100:
            raise exceptions.invalid_parameter("MinConfidence must be between 0 and 100")
        pixels = images.load(params["Image"], self.s3, "DetectLabels")
        features = params.get("Features") or ["GENERAL_LABELS"]
        body = {"LabelModelVersion": "3.0"}
        if "GENERAL_LABELS" in features:
            body["Labels"] = models.person_labels(self._faces(pixels), params.get("MaxLabels"), min_confidence)
        if "IMAGE_PROPERTIES" in features:
            settings = params.get("Settings", {}).get("ImageProperties", {})
            body["ImageProperties"] = models.image_properties(pixels, settings.get("MaxDominantColors", 10))
        return body

    # no honest offline model for these: say so instead of answering
    def detect_text(self, params, region):
        raise exceptions.no_offline_model("DetectText", "text detection (OCR)")

    def compare_faces(self, params, region):
        raise exceptions.no_offline_model("CompareFaces", "face identity embeddings")

    def detect_moderation_labels(self, params, region):
        images.load(params["Image"], self.s3, "DetectModerationLabels", decode=False)  # AWS's checks still apply
        raise exceptions.no_offline_model("DetectModerationLabels", "unsafe-content classification")

    def recognize_celebrities(self, params, region):
        raise exceptions.no_offline_model("RecognizeCelebrities", "celebrity recognition")
