"""A small image set laid out like Caltech-256, with the RecordIO files the book trains on.

Made only from data that ships inside scikit-learn (nothing is downloaded): each image is
one of the 1,797 real handwritten digits of `load_digits` (8 x 8, upscaled), drawn in a
random colour over a softened random crop of one of the two photographs scikit-learn ships
(`load_sample_image`: a Chinese temple and a flower), 32 x 32 RGB JPEG. Ten classes, one
per digit: a stand-in for Caltech-256's 257 object classes, small enough to train in seconds.

    images/train/001.zero/001_0001.jpg ...   class folders, Caltech's NNN.name convention
    images/val/...                           held-out images (other digits), same layout
    train.lst, val.lst                       im2rec lists: index <tab> label <tab> path
    train.rec, val.rec                       the same images packed as MXNet RecordIO
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np

CLASSES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
SIZE = 32
PER_CLASS = {"train": 50, "val": 10}
SEED = 9


def draw(digit: np.ndarray, rng: np.random.Generator, photos: list[np.ndarray]) -> bytes:
    """One JPEG: a digit's strokes in a random colour over a random crop of a photograph."""
    from PIL import Image

    photo = photos[rng.integers(len(photos))]
    side = int(rng.integers(64, 200))
    top, left = rng.integers(0, photo.shape[0] - side), rng.integers(0, photo.shape[1] - side)
    crop = Image.fromarray(photo[top:top + side, left:left + side]).resize((SIZE, SIZE), Image.BILINEAR)
    background = np.asarray(crop, dtype=np.float64)
    background = 0.3 * background + 0.7 * background.mean(axis=(0, 1))  # soften, so the digit stands out
    ink = Image.fromarray((digit / 16 * 255).astype(np.uint8)).resize((SIZE - 8, SIZE - 8), Image.BILINEAR)
    mask = np.zeros((SIZE, SIZE))
    dy, dx = rng.integers(0, 9, size=2)  # the digit sits anywhere within a 4-pixel margin
    mask[dy:dy + SIZE - 8, dx:dx + SIZE - 8] = np.asarray(ink) / 255
    colour = rng.integers(0, 256, size=3)
    if abs(colour.mean() - background.mean()) < 90:  # keep the ink visible against the photo
        colour = 255 - colour
    pixels = background * (1 - mask[..., None]) + colour * mask[..., None]
    out = io.BytesIO()
    Image.fromarray(pixels.round().astype(np.uint8)).save(out, format="JPEG", quality=90)
    return out.getvalue()


def make(out: Path) -> list[Path]:
    from sklearn.datasets import load_digits, load_sample_image

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from localaws.sagemaker.algorithms import recordio

    digits = load_digits()
    photos = [load_sample_image(name) for name in ("china.jpg", "flower.jpg")]
    rng = np.random.default_rng(SEED)
    by_class = {label: rng.permutation(np.flatnonzero(digits.target == label)) for label in range(len(CLASSES))}
    written, used = [], {label: 0 for label in by_class}
    for split, count in PER_CLASS.items():
        records, lines, index = [], [], 0
        for label, name in enumerate(CLASSES):
            folder = f"{label + 1:03d}.{name}"
            (out / "images" / split / folder).mkdir(parents=True, exist_ok=True)
            for number in range(1, count + 1):
                digit = digits.images[by_class[label][used[label]]]
                used[label] += 1  # every image uses a different handwritten digit
                relative = f"{folder}/{label + 1:03d}_{number:04d}.jpg"
                image = draw(digit, rng, photos)
                path = out / "images" / split / relative
                path.write_bytes(image)
                written.append(path)
                records.append((label, index, image))
                lines.append(recordio.lst_line(index, label, relative))
                index += 1
        (out / f"{split}.lst").write_text("".join(lines))
        written += [out / f"{split}.lst", recordio.write_images(out / f"{split}.rec", records)]
    return written
