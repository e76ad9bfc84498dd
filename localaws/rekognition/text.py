"""DetectText offline: RapidOCR (PP-OCR's detection, direction and recognition networks,
Apache-2.0, inside the rapidocr wheel, run with onnxruntime).

RapidOCR finds lines of text as four-cornered polygons and reads each; its recogniser
also places every word of a line (from where the characters fall in the line), which
gives Rekognition's WORD detections with their own boxes, each the child (ParentId) of
its LINE. As on AWS, at most 100 words are returned (Rekognition Developer Guide,
"Guidelines and quotas"; botocore's DetectText documentation); lines come in reading
order (top to bottom, then left to right) and stop before the line that would pass
100 words. The models read Latin script and Chinese; AWS reads Latin script.
"""
from __future__ import annotations

import threading

import numpy as np

MAX_WORDS = 100


def _geometry(quad, shape) -> dict:
    h, w = shape[:2]
    points = np.asarray(quad, np.float64).reshape(-1, 2)
    xs, ys = points[:, 0].clip(0, w) / w, points[:, 1].clip(0, h) / h
    return {"BoundingBox": {"Width": float(xs.max() - xs.min()), "Height": float(ys.max() - ys.min()),
                            "Left": float(xs.min()), "Top": float(ys.min())},
            "Polygon": [{"X": float(x), "Y": float(y)} for x, y in zip(xs, ys)]}


class TextReader:
    def __init__(self):
        self._engine = None
        self._lock = threading.Lock()

    def _load(self):
        from rapidocr import RapidOCR

        return RapidOCR(params={"Global.log_level": "critical", "Global.return_word_box": True})

    def read(self, pixels: np.ndarray) -> list[dict]:
        """[{"Text", "Confidence" (0-1), "Quad", "Words": [(text, confidence, quad)]}] in reading order."""
        with self._lock:
            if self._engine is None:
                self._engine = self._load()
            result = self._engine(np.ascontiguousarray(pixels[:, :, ::-1]))  # RapidOCR takes OpenCV's BGR
        if result.boxes is None or not result.txts:
            return []
        words = result.word_results or [()] * len(result.txts)
        lines = [{"Text": text, "Confidence": float(score), "Quad": np.asarray(quad).tolist(),
                  "Words": [(w[0], float(w[1]), w[2]) for w in line_words if str(w[0]).strip()]}
                 for text, score, quad, line_words in zip(result.txts, result.scores, result.boxes, words)]
        return lines  # RapidOCR sorts its boxes top to bottom, then left to right


def text_detections(lines: list[dict], shape, word_filter: dict | None = None, regions: list[dict] | None = None
                    ) -> list[dict]:
    """Rekognition's TextDetections: each LINE, then its WORDs, numbered as AWS numbers them
    (lines 0..n-1 first, words after). `word_filter` and `regions` are DetectText's Filters."""
    word_filter = word_filter or {}

    def kept(geometry: dict, confidence: float) -> bool:
        box = geometry["BoundingBox"]
        if confidence < word_filter.get("MinConfidence", 0) or box["Width"] < word_filter.get("MinBoundingBoxWidth", 0) \
                or box["Height"] < word_filter.get("MinBoundingBoxHeight", 0):
            return False
        if not regions:
            return True
        cx, cy = box["Left"] + box["Width"] / 2, box["Top"] + box["Height"] / 2
        return any(r["BoundingBox"]["Left"] <= cx <= r["BoundingBox"]["Left"] + r["BoundingBox"]["Width"]
                   and r["BoundingBox"]["Top"] <= cy <= r["BoundingBox"]["Top"] + r["BoundingBox"]["Height"]
                   for r in regions if "BoundingBox" in r)

    chosen, count = [], 0
    for line in lines:
        words = [(text, conf * 100, _geometry(quad, shape)) for text, conf, quad in line["Words"]]
        words = [w for w in words if kept(w[2], w[1])]
        if not words:
            continue
        if count + len(words) > MAX_WORDS:
            break
        count += len(words)
        chosen.append((line, words))
    detections, word_id = [], len(chosen)
    for line_id, (line, words) in enumerate(chosen):
        detections.append({"DetectedText": " ".join(w[0] for w in words), "Type": "LINE", "Id": line_id,
                           "Confidence": line["Confidence"] * 100, "Geometry": _geometry(line["Quad"], shape)})
    for line_id, (line, words) in enumerate(chosen):
        for text, confidence, geometry in words:
            detections.append({"DetectedText": text, "Type": "WORD", "Id": word_id, "ParentId": line_id,
                               "Confidence": confidence, "Geometry": geometry})
            word_id += 1
    return detections
