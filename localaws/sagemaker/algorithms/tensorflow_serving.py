"""TensorFlow Serving, as SageMaker's tensorflow-inference container answers it.

The model.tar.gz holds a SavedModel in a numbered version folder (`1/saved_model.pb`,
optionally under a model name: `my_model/1/…`; the book's TF 1 `export/Servo/<stamp>/`
also works). The highest version is served with its `serving_default` signature (or the
request's `signature_name`), answering TF Serving's REST JSON:

    {"instances": [row, …]}  ->  {"predictions": [output per row, …]}   (row format)
    {"inputs": tensor(s)}     ->  {"outputs": tensor(s)}                 (columnar format)

`text/csv` rows become instances, as the container's default handler does; string inputs
take `{"b64": "…"}`. The SavedModel is loaded by the TensorFlow installed here (not the
container's version). Custom `code/inference.py` handlers are not emulated.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np

from .base import ClientError, media_type

REPOSITORIES = ("tensorflow-inference",)
HYPERPARAMETERS: dict = {}
JSON, CSV = "application/json", "text/csv"


def find_saved_model(model_dir: Path, model_name: str | None = None) -> Path:
    """The directory of the SavedModel to serve: the highest numbered version."""
    found = sorted(p.parent for p in model_dir.rglob("saved_model.pb"))
    if model_name:
        found = [p for p in found if model_name in p.relative_to(model_dir).parts] or found
    if not found:
        raise ClientError("model.tar.gz holds no SavedModel (saved_model.pb). In the training "
                          "script, save with model.export(os.path.join(SM_MODEL_DIR, '1')).")

    def version(path: Path) -> tuple[int, str]:
        return (int(path.name) if path.name.isdigit() else -1, str(path))

    return max(found, key=version)


def to_json(value):
    """Tensor -> JSON-ready Python values (bytes as TF Serving writes them: {'b64': …})."""
    array = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
    if array.dtype.kind in "SO":
        return np.vectorize(lambda b: {"b64": base64.b64encode(b).decode()}, otypes=[object])(array).tolist()
    return array.tolist()


def from_json(value, dtype):
    if dtype.name == "string":
        def unwrap(v):
            if isinstance(v, dict) and "b64" in v:
                return base64.b64decode(v["b64"])
            if isinstance(v, list):
                return [unwrap(x) for x in v]
            return str(v).encode()
        return np.asarray(unwrap(value), dtype=object)
    try:
        return np.asarray(value, dtype=dtype.as_numpy_dtype)
    except (TypeError, ValueError) as err:
        raise ClientError(f"cannot convert the input to a {dtype.name} tensor: {err}") from None


def explain(err: Exception) -> str:
    """The line of a TensorFlow error that says what is wrong (not 'Graph execution error:')."""
    lines = [line.strip() for line in str(getattr(err, "message", err)).splitlines()]
    useful = [line for line in lines if line and not line.startswith(
        ("Graph execution error", "Detected at node", "<stack traces", "[["))]
    return useful[-1] if useful else lines[0]


class ServedModel:
    default_accept = JSON

    def __init__(self, path: Path):
        import tensorflow as tf

        self.tf = tf
        self.path = path
        self.loaded = tf.saved_model.load(str(path))
        if not self.loaded.signatures:
            raise ClientError(f"the SavedModel in {path.name} has no serving signatures")

    def signature(self, name: str | None):
        name = name or "serving_default"
        if name not in self.loaded.signatures:
            raise ClientError(f"Serving signature name: \"{name}\" not found in signature def "
                              f"(available: {sorted(self.loaded.signatures)})")
        fn = self.loaded.signatures[name]
        return fn, fn.structured_input_signature[1]

    def run(self, fn, specs: dict, inputs: dict):
        missing = sorted(set(specs) - set(inputs))
        if missing:
            raise ClientError(f"input(s) {missing} missing from the request; the signature takes {sorted(specs)}")
        tensors = {}
        for name, spec in specs.items():
            array = from_json(inputs[name], spec.dtype)
            if not spec.shape.is_compatible_with(array.shape):
                raise ClientError(f"input '{name}' has shape {list(array.shape)}; the signature expects "
                                  f"{spec.shape.as_list()} (None: any size)")
            tensors[name] = self.tf.constant(array)
        try:
            return fn(**tensors)
        except (self.tf.errors.InvalidArgumentError, ValueError, TypeError) as err:
            raise ClientError(explain(err)) from None

    def answer(self, request: dict) -> dict:
        fn, specs = self.signature(request.get("signature_name"))
        if "instances" in request:
            instances = request["instances"]
            if not isinstance(instances, list) or not instances:
                raise ClientError("'instances' must be a non-empty list")
            if all(isinstance(i, dict) for i in instances):
                inputs = {name: [i.get(name) for i in instances] for name in specs}
                inputs = {k: v for k, v in inputs.items() if all(x is not None for x in v)}
            elif len(specs) == 1:
                inputs = {next(iter(specs)): instances}
            else:
                raise ClientError(f"the signature takes several inputs {sorted(specs)}: send each "
                                  "instance as an object keyed by input name")
            outputs = self.run(fn, specs, inputs)
            if len(outputs) == 1:
                return {"predictions": to_json(next(iter(outputs.values())))}
            columns = {k: to_json(v) for k, v in outputs.items()}
            return {"predictions": [{k: columns[k][i] for k in columns} for i in range(len(instances))]}
        if "inputs" in request:
            given = request["inputs"]
            named = isinstance(given, dict) and given and set(given) <= set(specs)
            inputs = given if named else {next(iter(specs)): given}
            outputs = self.run(fn, specs, inputs)
            if len(outputs) == 1:
                return {"outputs": to_json(next(iter(outputs.values())))}
            return {"outputs": {k: to_json(v) for k, v in outputs.items()}}
        raise ClientError("Missing 'inputs' or 'instances' key")

    def predict(self, body: bytes, content_type: str | None, accept: str | None) -> tuple[bytes, str]:
        kind = media_type(content_type, JSON)
        text = body.decode("utf-8", errors="replace")
        if kind == CSV:
            try:
                rows = [[float(x) for x in line.split(",")] for line in text.splitlines() if line.strip()]
            except ValueError as err:
                raise ClientError(f"CSV input must be numbers only: {err}") from None
            request = {"instances": rows}
        elif kind == JSON:
            try:
                request = json.loads(text)
            except ValueError as err:
                raise ClientError(f"JSON Parse error: {err}") from None
            if not isinstance(request, dict):
                raise ClientError(f"JSON Value: {text[:80]} Is not object")
        else:
            raise ClientError(f"unsupported content type {content_type!r}: use {JSON} or {CSV}")
        if accept and media_type(accept, JSON) not in (JSON, "*/*"):
            raise ClientError(f"unsupported accept type {accept!r}: TensorFlow Serving answers {JSON}")
        return json.dumps(self.answer(request)).encode(), JSON


def train(*args, **kwargs):
    raise ClientError("tensorflow-inference images serve models; train with a tensorflow-training image")


def load(model_dir: Path, environment: dict | None = None) -> ServedModel:
    if (model_dir / "code" / "inference.py").exists():
        raise ClientError("code/inference.py (custom pre/post-processing) is not emulated offline")
    name = (environment or {}).get("SAGEMAKER_TFS_DEFAULT_MODEL_NAME")
    return ServedModel(find_saved_model(model_dir, name))
