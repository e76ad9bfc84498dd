"""What the emulated Rekognition computes from an image, and with which offline models.

- Faces: MTCNN (the `mtcnn` package, weights inside its wheel) finds each face, its
  confidence and five landmarks (eyes, nose, mouth corners). Pose is estimated from the
  geometry of those landmarks, Quality from the face's pixels (luminance and Laplacian
  variance). The attributes of `Attributes=["ALL"]` come from other models
  (attributes.py); those no shipped model estimates are left out.
- Labels: labels.py (an object detector of 80 kinds of object, and a label hierarchy).
  IMAGE_PROPERTIES (dominant colours by k-means, brightness, sharpness, contrast) is
  computed here for any image.
- Text, face comparison and moderation: text.py, compare.py, moderation.py.
"""
from __future__ import annotations

import copy
import hashlib
import math
import threading
from collections import OrderedDict

import numpy as np

LANDMARKS = {"left_eye": "eyeLeft", "right_eye": "eyeRight", "nose": "nose",
             "mouth_left": "mouthLeft", "mouth_right": "mouthRight"}
# CSS basic colour names, used as Rekognition's SimplifiedColor buckets
SIMPLE_COLOURS = {"black": (0, 0, 0), "white": (255, 255, 255), "grey": (128, 128, 128), "red": (200, 30, 30),
                  "orange": (240, 140, 20), "yellow": (240, 220, 40), "green": (40, 160, 60),
                  "blue": (40, 80, 200), "purple": (130, 50, 160), "pink": (240, 150, 190),
                  "brown": (120, 75, 40), "teal": (0, 128, 128)}


class FaceDetector:
    """MTCNN, loaded on first use (TensorFlow takes seconds to import) and shared. The
    faces of the last few images are remembered: a notebook often asks for an image's
    labels and then its faces, and the detector is deterministic."""

    def __init__(self, remember: int = 16):
        self._model = None
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, list[dict]] = OrderedDict()
        self._remember = remember

    def detect(self, pixels: np.ndarray) -> list[dict]:
        key = hashlib.sha1(pixels.tobytes() + str(pixels.shape).encode()).hexdigest()
        with self._lock:
            if key not in self._recent:
                if self._model is None:
                    from mtcnn import MTCNN

                    self._model = MTCNN(device="CPU:0")
                self._recent[key] = self._model.detect_faces(pixels)
                if len(self._recent) > self._remember:
                    self._recent.popitem(last=False)
            self._recent.move_to_end(key)
            return copy.deepcopy(self._recent[key])


def luminance(pixels: np.ndarray) -> np.ndarray:
    return pixels[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def sharpness(gray: np.ndarray) -> float:
    """0-100 from the variance of the Laplacian (in-focus edges give a large variance)."""
    if min(gray.shape) < 3:
        return 0.0
    laplacian = (gray[:-2, 1:-1] + gray[2:, 1:-1] + gray[1:-1, :-2] + gray[1:-1, 2:] - 4 * gray[1:-1, 1:-1])
    return float(100 * (1 - math.exp(-laplacian.var() / 300)))


def box(left: float, top: float, width: float, height: float, shape) -> dict:
    h, w = shape[:2]
    left, top = max(left, 0), max(top, 0)
    return {"Width": min(width, w - left) / w, "Height": min(height, h - top) / h, "Left": left / w, "Top": top / h}


def pose(points: dict) -> dict:
    """Roll from the eye line; yaw from how far the nose sits off the eyes' midpoint; pitch
    from where the nose sits between the eye line and the mouth line. Approximations from
    five points (AWS fits a full 3-D head model), good to about 10-15 degrees."""
    (lx, ly), (rx, ry) = points["left_eye"], points["right_eye"]
    roll = math.degrees(math.atan2(ry - ly, rx - lx))
    angle = math.radians(-roll)
    cos, sin = math.cos(angle), math.sin(angle)

    def upright(x, y):  # rotate about the left eye so the eyes are level
        return lx + (x - lx) * cos - (y - ly) * sin, ly + (x - lx) * sin + (y - ly) * cos

    (ex, ey), (nx, ny) = upright(rx, ry), upright(*points["nose"])
    mouth_y = (upright(*points["mouth_left"])[1] + upright(*points["mouth_right"])[1]) / 2
    half_eyes = max((ex - lx) / 2, 1e-6)
    # turning by yaw shrinks the eye span by cos(yaw) and moves the nose tip, which stands
    # about half an eye span in front of the eyes, by sin(yaw): offset / half span = tan(yaw)
    yaw = math.degrees(math.atan((nx - (lx + ex) / 2) / half_eyes))
    depth = (ny - ly) / max(mouth_y - ly, 1e-6)  # about 0.55 for a face looking straight ahead
    pitch = max(-90.0, min(90.0, (0.55 - depth) * 180))
    return {"Roll": roll, "Yaw": yaw, "Pitch": pitch}


def face_details(faces: list[dict], pixels: np.ndarray) -> list[dict]:
    """Rekognition's FaceDetail (its DEFAULT attributes) for each MTCNN face, in the order given."""
    h, w = pixels.shape[:2]
    gray = luminance(pixels)
    details = []
    for face in faces:
        x, y, fw, fh = (int(v) for v in face["box"])
        crop = gray[max(y, 0):y + fh, max(x, 0):x + fw]
        points = {k: (float(v[0]), float(v[1])) for k, v in face["keypoints"].items()}
        details.append({
            "BoundingBox": box(x, y, fw, fh, pixels.shape),
            "Landmarks": [{"Type": LANDMARKS[k], "X": points[k][0] / w, "Y": points[k][1] / h} for k in LANDMARKS],
            "Pose": pose(points),
            "Quality": {"Brightness": float(crop.mean() / 2.55) if crop.size else 0.0, "Sharpness": sharpness(crop)},
            "Confidence": float(face["confidence"]) * 100,
        })
    return details


def dominant_colours(pixels: np.ndarray, count: int = 5) -> list[dict]:
    """The image's main colours: k-means over (a sample of) its pixels."""
    from sklearn.cluster import KMeans

    flat = pixels.reshape(-1, 3).astype(np.float32)
    sample = flat[np.random.default_rng(0).choice(len(flat), size=min(len(flat), 20000), replace=False)]
    kmeans = KMeans(n_clusters=min(count, len(np.unique(sample, axis=0))), n_init=3, random_state=0).fit(sample)
    shares = np.bincount(kmeans.labels_, minlength=kmeans.n_clusters) / len(sample)
    colours = []
    for centre, share in sorted(zip(kmeans.cluster_centers_, shares), key=lambda item: -item[1]):
        r, g, b = (int(round(c)) for c in centre)
        simple = min(SIMPLE_COLOURS, key=lambda n: sum((a - c) ** 2 for a, c in zip(SIMPLE_COLOURS[n], (r, g, b))))
        colours.append({"Red": r, "Green": g, "Blue": b, "HexCode": f"#{r:02x}{g:02x}{b:02x}",
                        "SimplifiedColor": simple, "PixelPercent": float(share * 100)})
    return colours


def image_properties(pixels: np.ndarray, max_colours: int = 10) -> dict:
    gray = luminance(pixels)
    return {"Quality": {"Brightness": float(gray.mean() / 2.55), "Sharpness": sharpness(gray),
                        "Contrast": float(min(100.0, gray.std() / 1.28))},
            "DominantColors": dominant_colours(pixels, max_colours)}
