"""Rekognition requests -> image -> offline models -> responses.

Every model loads on the first request that needs it, in the emulator's process, and
stays loaded: nothing is read at start-up and nothing is reloaded per request.
"""
from __future__ import annotations

import functools
import hashlib

from . import exceptions, images, models, weights
from .attributes import FaceAttributes
from .compare import FaceEmbedder, similarity
from .labels import ObjectDetector, build_labels
from .moderation import Moderator, moderation_labels
from .text import TextReader, text_detections

# the version strings name the response format followed (labels with Aliases and
# Categories, moderation taxonomy levels), not the models, which are localaws's own
LABEL_MODEL_VERSION, TEXT_MODEL_VERSION, MODERATION_MODEL_VERSION = "3.0", "3.0", "7.0"


def offline(operation: str):
    """A model file missing from this installation becomes an error naming the fix."""
    def wrap(method):
        @functools.wraps(method)
        def call(self, params, region):
            try:
                return method(self, params, region)
            except weights.ModelMissing as missing:
                raise exceptions.model_missing(operation, str(missing)) from None
        return call
    return wrap


class RekognitionResponses:
    def __init__(self, s3):
        self.s3 = s3
        self.faces = models.FaceDetector()
        self.objects = ObjectDetector()
        self.attributes = FaceAttributes()
        self.reader = TextReader()
        self.embedder = FaceEmbedder()
        self.moderator = Moderator()

    @staticmethod
    def _key(pixels) -> str:
        return hashlib.sha1(pixels.tobytes() + str(pixels.shape).encode()).hexdigest()

    @offline("DetectFaces")
    def detect_faces(self, params, region):
        pixels = images.load(params["Image"], self.s3, "DetectFaces")
        wanted = set(params.get("Attributes") or ["DEFAULT"])
        faces = sorted(self.faces.detect(pixels), key=lambda f: -f["confidence"])
        details = models.face_details(faces, pixels)
        if wanted - {"DEFAULT"}:
            for face, detail in zip(faces, details):
                detail.update(self.attributes.estimate(pixels, face, wanted))
        return {"FaceDetails": details}

    @offline("DetectLabels")
    def detect_labels(self, params, region):
        min_confidence = params.get("MinConfidence", 55.0)  # 0-100: botocore's Percent, checked before
        pixels = images.load(params["Image"], self.s3, "DetectLabels")
        features = params.get("Features") or ["GENERAL_LABELS"]
        body = {"LabelModelVersion": LABEL_MODEL_VERSION}
        if "GENERAL_LABELS" in features:
            detections = self.objects.detect(pixels, self._key(pixels))
            people = [d for d in detections if d["Name"] == "Person" and d["Score"] * 100 >= min_confidence]
            face_labels = self._face_labels(pixels, people) if people else {}
            body["Labels"] = build_labels(detections, pixels.shape, face_labels, min_confidence,
                                          params.get("MaxLabels"))
        if "IMAGE_PROPERTIES" in features:
            settings = params.get("Settings", {}).get("ImageProperties", {})
            body["ImageProperties"] = models.image_properties(pixels, settings.get("MaxDominantColors", 10))
        return body

    def _face_labels(self, pixels, people: list[dict]) -> dict[str, float]:
        """Face and Head, from the faces MTCNN finds on the people the detector saw: each
        face whose centre lies in a person's box counts, as sure as the less sure of the two."""
        best = 0.0
        for face in self.faces.detect(pixels):
            x, y, w, h = face["box"]
            cx, cy = x + w / 2, y + h / 2
            for person in people:
                x0, y0, x1, y1 = person["Box"]
                if x0 <= cx <= x1 and y0 <= cy <= y1:
                    best = max(best, min(face["confidence"], person["Score"]) * 100)
        return {"Face": best, "Head": best} if best else {}

    @offline("DetectText")
    def detect_text(self, params, region):
        pixels = images.load(params["Image"], self.s3, "DetectText")
        filters = params.get("Filters", {})
        lines = self.reader.read(pixels)
        return {"TextDetections": text_detections(lines, pixels.shape, filters.get("WordFilter"),
                                                  filters.get("RegionsOfInterest")),
                "TextModelVersion": TEXT_MODEL_VERSION}

    @offline("CompareFaces")
    def compare_faces(self, params, region):
        threshold = params.get("SimilarityThreshold", 80.0)
        source_pixels = images.load(params["SourceImage"], self.s3, "CompareFaces")
        target_pixels = images.load(params["TargetImage"], self.s3, "CompareFaces")
        source_faces = self.faces.detect(source_pixels)
        if not source_faces:  # as AWS answers a source without a face (boto/botocore#1203)
            raise exceptions.invalid_parameter()
        # the largest face of the source image is compared (botocore's CompareFaces documentation)
        source = max(source_faces, key=lambda f: f["box"][2] * f["box"][3])
        reference = self.embedder.embed(source_pixels, source["keypoints"])
        source_detail = models.face_details([source], source_pixels)[0]
        matches, unmatched = [], []
        targets = sorted(self.faces.detect(target_pixels), key=lambda f: -f["box"][2] * f["box"][3])[:100]
        for face, detail in zip(targets, models.face_details(targets, target_pixels)):
            score = similarity(float(reference @ self.embedder.embed(target_pixels, face["keypoints"])))
            if score >= threshold:
                matches.append({"Similarity": score, "Face": detail})
            else:
                unmatched.append(detail)
        return {"SourceImageFace": {"BoundingBox": source_detail["BoundingBox"], "Confidence": source_detail["Confidence"]},
                "FaceMatches": sorted(matches, key=lambda m: -m["Similarity"]), "UnmatchedFaces": unmatched}

    @offline("DetectModerationLabels")
    def detect_moderation_labels(self, params, region):
        min_confidence = params.get("MinConfidence", 50.0)
        pixels = images.load(params["Image"], self.s3, "DetectModerationLabels")
        probability = self.moderator.explicit_probability(pixels)
        return {"ModerationLabels": moderation_labels(probability, min_confidence),
                "ModerationModelVersion": MODERATION_MODEL_VERSION}

    # no honest offline model for this one: say so instead of answering
    def recognize_celebrities(self, params, region):
        raise exceptions.no_offline_model("RecognizeCelebrities", "celebrity recognition")
