"""Stand-ins for the public S3 objects that aws/amazon-sagemaker-examples' notebooks read.

tests/conformance runs some of those notebooks unchanged against localaws; what they
download from AWS's public sample buckets is put, before the kernel starts, at the same
bucket and key in the emulator's S3. The files are written here as `<bucket>/<key>` (the
folder layout is the S3 layout) and data/README.md lists each one.

Abalone (UCI, Nash et al. 1994; the notebooks use LIBSVM's copy): **synthetic**, 600 shells
with the real columns and encodings (rings first; sex 1/2/3; length, diameter and height in
units of 200 mm; four weights in units of 200 g) and the real kind of signal: length grows
with age along a von Bertalanffy curve, diameter and height follow length, the weights its
cube, infants are the young ones, and the ring count is only partly predictable from size
(as in the real data, where a linear model's error is about 2 rings). The csv, libsvm and
per-channel libsvm files hold the same rows, split 70/15/15 in the notebooks' proportions.

MNIST (`mnist.pkl.gz`, deeplearning.net's pickle: `(train, valid, test)`, each `(images
float32 n x 784 in [0, 1), labels int64)`): **real** handwriting, **reshaped**: 500 / 100 /
100 of the UCI optical digits inside scikit-learn, enlarged and centred in 28 x 28 as
`digits.py` makes them (far fewer and blurrier than MNIST's 50,000 / 10,000 / 10,000).

`example-notebooks-data-config/config/data_config.json`: the region -> data bucket map
that `sagemaker.utils.S3DataConfig` reads; here only us-east-1 (the emulator's region).
"""
from __future__ import annotations

import gzip
import io
import json
import pickle
from pathlib import Path

import numpy as np

REGION = "us-east-1"
EXAMPLE_FILES = f"sagemaker-example-files-prod-{REGION}"
SAMPLE_FILES = "sagemaker-sample-files"
DATA_CONFIG = "example-notebooks-data-config"
ABALONE = "datasets/tabular/uci_abalone"
ABALONE_ROWS = 600
SPLITS = {"train": 0.70, "validation": 0.15, "test": 0.15}
MNIST_SIZES = {"train": 500, "valid": 100, "test": 100}
SEED = 18


def abalone(n: int = ABALONE_ROWS, seed: int = SEED) -> np.ndarray:
    """n x 9: rings, sex (1 = M, 2 = F, 3 = I, LIBSVM's coding), then the seven measurements."""
    rng = np.random.default_rng(seed)
    rings = np.clip(np.rint(rng.lognormal(np.log(9.5), 0.3, n)), 1, 29)
    length = np.clip(0.7 * (1 - np.exp(-0.16 * rings)) + rng.normal(0, 0.05, n), 0.075, 0.815)
    diameter = np.clip(0.79 * length + rng.normal(0, 0.012, n), 0.055, 0.65)
    height = np.clip(0.27 * length + rng.normal(0, 0.012, n), 0.01, 0.25)
    whole = 5.6 * length ** 3 * rng.lognormal(0, 0.08, n)
    shucked = whole * rng.uniform(0.38, 0.48, n)
    viscera = whole * rng.uniform(0.19, 0.24, n)
    shell = whole * rng.uniform(0.26, 0.33, n)
    infant = rng.random(n) < 1 / (1 + np.exp(rings - 7.5))
    sex = np.where(infant, 3, rng.integers(1, 3, n))
    return np.column_stack([rings, sex, length, diameter, height, whole, shucked, viscera, shell])


def _number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def csv_lines(rows: np.ndarray) -> str:
    return "".join(",".join(_number(v) for v in row) + "\n" for row in rows)


def libsvm_lines(rows: np.ndarray) -> str:
    """`rings 1:sex 2:length ... 8:shell`, one-based indices, no trailing space."""
    return "".join(_number(row[0]) + " " + " ".join(f"{j}:{_number(v)}" for j, v in enumerate(row[1:], 1)) + "\n"
                   for row in rows)


def split(rows: np.ndarray) -> dict[str, np.ndarray]:
    ends = np.cumsum([int(round(share * len(rows))) for share in SPLITS.values()])
    return dict(zip(SPLITS, np.split(rows, ends[:-1])))


def mnist_pickle(seed: int = SEED) -> bytes:
    from generators import digits  # data/generators/digits.py (make_samples.py puts data/ on the path)

    images, labels = digits.load()
    order = np.random.default_rng(seed).permutation(len(labels))
    X = (images.reshape(len(images), -1)[order] / 256.0).astype(np.float32)  # MNIST's pickle: [0, 1)
    y = labels[order].astype(np.int64)
    parts, start = [], 0
    for size in MNIST_SIZES.values():
        parts.append((X[start:start + size], y[start:start + size]))
        start += size
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:  # mtime=0: the same bytes every run
        pickle.dump(tuple(parts), f, protocol=2)
    return raw.getvalue()


def objects() -> dict[str, bytes]:
    """'bucket/key' -> body, every stand-in object."""
    rows = abalone()
    parts = split(rows)
    found = {f"{EXAMPLE_FILES}/{ABALONE}/abalone.libsvm": libsvm_lines(rows).encode()}
    for name, part in parts.items():
        found[f"{EXAMPLE_FILES}/{ABALONE}/{name}_csv/abalone_dataset1_{name}.csv"] = csv_lines(part).encode()
        found[f"{SAMPLE_FILES}/{ABALONE}/{name}/abalone.{name}"] = libsvm_lines(part).encode()
    found[f"{EXAMPLE_FILES}/datasets/image/MNIST/mnist.pkl.gz"] = mnist_pickle()
    found[f"{DATA_CONFIG}/config/data_config.json"] = (json.dumps(
        {"default": EXAMPLE_FILES, REGION: EXAMPLE_FILES}, indent=1) + "\n").encode()
    return found


def make(out: Path) -> list[Path]:
    paths = []
    for name, body in sorted(objects().items()):
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        paths.append(path)
    return paths
