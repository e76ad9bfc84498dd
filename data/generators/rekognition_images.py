"""Photographs for chapter 11 (Rekognition): real images shipped inside the scikit-image wheel.

- astronaut.jpg: Eileen Collins, NASA, public domain (one face);
- crew.jpg: that photograph beside scikit-image's "camera" photograph (Lav Varshney, CC0),
  so one image holds two people;
- coffee.jpg: a cup of coffee on a saucer (Rachel Michetti, CC0), no person in it;
- motorcycle.jpg: a motorcycle in a garage, the left view of the Middlebury 2014 stereo
  pair scikit-image ships (Scharstein et al.), the chapter's stand-in for the book's
  photograph of boats (the same parents: Vehicle, Transportation);
- cat.jpg: Chelsea the cat (Stefan van der Walt, CC0);
- page.jpg: a scanned page of printed text, for DetectText.

Re-encoded as JPEG (quality 90) so the committed files stay small; nothing is downloaded.
expected_labels.json, written beside them, says what a person sees in each photograph:
`expected` are the objects among the 80 kinds localaws's detector knows, one entry per
object (the tests require DetectLabels to box each of them at MinConfidence 50), `missed`
those the offline detector does not find at that confidence, `outside_the_80` what a
person also sees that it cannot name at all.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

EXPECTED = {
    "astronaut.jpg": {"expected": ["Person"], "missed": [],
                      "outside_the_80": ["Flag", "Space suit", "Helmet", "Rocket"]},
    "crew.jpg": {"expected": ["Person", "Person"], "missed": [],
                 "outside_the_80": ["Flag", "Space suit", "Helmet", "Rocket", "Camera", "Tripod", "Coat", "Building"]},
    "coffee.jpg": {"expected": ["Cup", "Dining Table", "Spoon"], "missed": ["Spoon"],
                   "outside_the_80": ["Saucer", "Coffee"]},
    "motorcycle.jpg": {"expected": ["Motorcycle", "Bench", "Bicycle"], "missed": ["Bench", "Bicycle"],
                       "outside_the_80": ["Shelf", "Cardboard box", "Garage"]},
    "cat.jpg": {"expected": ["Cat"], "missed": [], "outside_the_80": []},
    "page.jpg": {"expected": [], "missed": [], "outside_the_80": ["Text", "Paper"]},
}


def _save(pixels: np.ndarray, path: Path) -> Path:
    from PIL import Image

    Image.fromarray(pixels).save(path, format="JPEG", quality=90)
    return path


def make(out: Path) -> list[Path]:
    from skimage import data

    astronaut = data.astronaut()
    camera = np.repeat(data.camera()[..., None], 3, axis=2)  # grey photograph as RGB
    page = np.repeat(data.page()[..., None], 3, axis=2)
    written = [_save(astronaut, out / "astronaut.jpg"),
               _save(np.hstack([astronaut, camera]), out / "crew.jpg"),
               _save(data.coffee(), out / "coffee.jpg"),
               _save(data.stereo_motorcycle()[0], out / "motorcycle.jpg"),
               _save(data.chelsea(), out / "cat.jpg"),
               _save(page, out / "page.jpg")]
    expected = out / "expected_labels.json"
    expected.write_text(json.dumps(EXPECTED, indent=2) + "\n")
    return written + [expected]
