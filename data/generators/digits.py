"""Handwritten digits in the schema of Kaggle's digit-recognizer `train.csv` (MNIST).

Real data, reshaped: the 1,797 8×8 digits of the UCI optical-recognition set (Alpaydin &
Kaynak, 1998; 43 writers) that ship inside scikit-learn (`load_digits`, no download).
Each image is enlarged from 8×8 to 20×20 by bilinear interpolation and centred in a 28×28
frame, as MNIST centres its 20×20 digits, with grey levels rescaled from 0-16 to 0-255.
Columns: `label,pixel0,…,pixel783` (row-major pixels), like Kaggle's file; gzipped
(3.6 MB -> a few hundred kB), which pandas and Spark read as they are.
"""
from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np

SIDE, DIGIT_SIDE = 28, 20


def load() -> tuple[np.ndarray, np.ndarray]:
    """(images n×28×28 uint8, labels n) from scikit-learn's bundled digits."""
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    digits = load_digits()
    margin = (SIDE - DIGIT_SIDE) // 2
    images = np.zeros((len(digits.images), SIDE, SIDE), dtype=np.uint8)
    for i, small in enumerate(digits.images):
        large = zoom(small, DIGIT_SIDE / small.shape[0], order=1)
        images[i, margin:margin + DIGIT_SIDE, margin:margin + DIGIT_SIDE] = np.clip(
            np.rint(large * 255.0 / 16.0), 0, 255).astype(np.uint8)
    return images, digits.target.astype(int)


def make(out: Path) -> list[Path]:
    images, labels = load()
    path = out / "train.csv.gz"
    header = ",".join(["label"] + [f"pixel{i}" for i in range(SIDE * SIDE)])
    rows = np.column_stack([labels, images.reshape(len(images), -1)])
    text = io.StringIO()
    text.write(header + "\n")
    np.savetxt(text, rows, fmt="%d", delimiter=",")
    with path.open("wb") as raw, gzip.GzipFile(filename="train.csv", mode="wb", fileobj=raw, mtime=0) as f:
        f.write(text.getvalue().encode())  # mtime=0: the same bytes on every run
    return [path]
