"""Photographs for chapter 11 (Rekognition): real images shipped inside the scikit-image wheel.

- astronaut.jpg: Eileen Collins, NASA, public domain (one face);
- crew.jpg: that photograph beside scikit-image's "camera" photograph (Lav Varshney, CC0),
  so one image holds two people;
- coffee.jpg: a cup of coffee (Rachel Michetti, CC0), an image with no person in it.

Re-encoded as JPEG (quality 90) so the committed files stay small; nothing is downloaded.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _save(pixels: np.ndarray, path: Path) -> Path:
    from PIL import Image

    Image.fromarray(pixels).save(path, format="JPEG", quality=90)
    return path


def make(out: Path) -> list[Path]:
    from skimage import data

    astronaut = data.astronaut()
    camera = np.repeat(data.camera()[..., None], 3, axis=2)  # grey photograph as RGB
    return [_save(astronaut, out / "astronaut.jpg"),
            _save(np.hstack([astronaut, camera]), out / "crew.jpg"),
            _save(data.coffee(), out / "coffee.jpg")]
