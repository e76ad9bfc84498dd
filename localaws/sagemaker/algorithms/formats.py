"""Data formats of SageMaker's built-in algorithms, for training and for inference.

Training: `text/csv` with the label in the first column and no header, and
`application/x-recordio-protobuf` as the SDK's `record_set()` and
`write_spmatrix_to_sparse_tensor` write it (read with the SDK's own protobuf schema).
Inference: text/csv, application/json(lines) `instances`, recordIO-protobuf; answers as
`{"predictions": [...]}`, JSON lines or recordIO-protobuf records.
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Iterable

import numpy as np
from scipy import sparse

from .base import Channel, ClientError, media_type

CSV = "text/csv"
JSON = "application/json"
JSONLINES = "application/jsonlines"
RECORDIO = "application/x-recordio-protobuf"


# ---------------------------------------------------------------- training data
def read_csv_matrix(files: Iterable[Path]) -> np.ndarray:
    """All rows of headerless numeric CSV files as one float matrix."""
    blocks = []
    for path in files:
        try:
            block = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
        except ValueError as err:
            raise ClientError(f"{path.name}: not a headerless numeric CSV ({err}). Built-in "
                              "algorithms expect no header row and numbers only.") from None
        if block.size:
            blocks.append(block)
    if not blocks:
        raise ClientError("the CSV input has no rows")
    widths = {b.shape[1] for b in blocks}
    if len(widths) > 1:
        raise ClientError(f"CSV files have different numbers of columns: {sorted(widths)}")
    return np.vstack(blocks)


def _tensor(value):
    """The populated tensor of a protobuf Value (float32, float64 or int32)."""
    for kind in ("float32_tensor", "float64_tensor", "int32_tensor"):
        if value.HasField(kind):
            return getattr(value, kind)
    return None


def read_recordio_records(data: bytes) -> list:
    from sagemaker.amazon.common import read_records

    try:
        return read_records(io.BytesIO(data))
    except Exception:
        raise ClientError("the data is not RecordIO-protobuf; if it is CSV, declare it with "
                          "content_type='text/csv' on the channel or request") from None


def records_to_matrix(records: list, feature_dim: int | None = None):
    """Features (dense ndarray, or CSR when the records are sparse) and labels (or None)."""
    rows, cols, vals, labels, dense_rows = [], [], [], [], []
    width = feature_dim or 0
    any_sparse = False
    for i, record in enumerate(records):
        tensor = _tensor(record.features["values"])
        if tensor is None:
            raise ClientError(f"record {i} has no 'values' feature tensor")
        values = np.asarray(tensor.values, dtype=np.float64)
        if len(tensor.keys):
            any_sparse = True
            keys = np.asarray(tensor.keys, dtype=np.int64)
            if len(tensor.shape):
                width = max(width, int(tensor.shape[0]))
            width = max(width, int(keys.max()) + 1 if len(keys) else 0)
            rows += [i] * len(keys)
            cols += keys.tolist()
            vals += values.tolist()
        else:
            dense_rows.append(values)
            width = max(width, len(values))
        if "values" in record.label:
            label_tensor = _tensor(record.label["values"])
            labels.append(label_tensor.values[0] if label_tensor is not None and len(label_tensor.values) else np.nan)
    if any_sparse and dense_rows:
        raise ClientError("mixed sparse and dense records in one data set")
    if any_sparse:
        X = sparse.csr_matrix((vals, (rows, cols)), shape=(len(records), width))
    else:
        X = np.vstack(dense_rows) if dense_rows else np.zeros((0, width))
    y = np.asarray(labels, dtype=np.float64) if labels else None
    return X, y


def read_channel(channel: Channel, feature_dim: int | None = None, label_first: bool = True,
                 default: str = RECORDIO):
    """(X, y) of a training channel in CSV (label first) or RecordIO-protobuf.

    Amazon's first-party algorithms read RecordIO-protobuf when the channel names no
    content type (the SDK's `record_set()` sends none); CSV must be declared."""
    kind = media_type(channel.content_type, default)
    files = channel.data_files()
    if kind in (CSV, "text/csv;label_size=1"):
        matrix = read_csv_matrix(files)
        if not label_first:
            return matrix, None
        if matrix.shape[1] < 2:
            raise ClientError(f"channel '{channel.name}': CSV needs a label column and features")
        return matrix[:, 1:], matrix[:, 0]
    if kind in (RECORDIO, "application/x-recordio"):
        records = []
        for path in files:
            records += read_recordio_records(path.read_bytes())
        return records_to_matrix(records, feature_dim)
    raise ClientError(f"channel '{channel.name}': content type {kind!r} is not supported "
                      f"(use {CSV} or {RECORDIO})")


def check_feature_dim(X, feature_dim, where: str) -> None:
    if feature_dim not in (None, "auto") and X.shape[1] != feature_dim:
        raise ClientError(f"{where}: {X.shape[1]} features per record, but feature_dim={feature_dim}")


# ---------------------------------------------------------------- inference requests
def _json_instance(instance) -> tuple[list, list | None, int | None]:
    """values, keys, shape of one JSON instance in any of the accepted forms."""
    if isinstance(instance, list):
        return instance, None, None
    if not isinstance(instance, dict):
        raise ClientError("each instance must be a list of numbers or an object with 'features'")
    features = instance.get("features", instance.get("data", {}).get("features"))
    if isinstance(features, list):
        return features, None, None
    if isinstance(features, dict) and "values" in features:
        shape = features.get("shape")
        return features["values"], features.get("keys"), shape[0] if shape else None
    raise ClientError("instance has no 'features' (expected {'features': [...]} or "
                      "{'data': {'features': {'values': [...]}}})")


def _instances_to_matrix(instances: list, feature_dim: int | None):
    parsed = [_json_instance(i) for i in instances]
    if any(keys is not None for _, keys, _ in parsed):
        width = feature_dim or max((s or 0) for _, _, s in parsed) or None
        rows, cols, vals = [], [], []
        for r, (values, keys, shape) in enumerate(parsed):
            keys = keys if keys is not None else list(range(len(values)))
            if len(keys) != len(values):
                raise ClientError(f"instance {r}: {len(keys)} keys but {len(values)} values")
            rows += [r] * len(keys)
            cols += keys
            vals += values
        width = width or (max(cols) + 1 if cols else 0)
        if cols and max(cols) >= width:
            raise ClientError(f"a feature key ({max(cols)}) is beyond the feature dimension {width}")
        return sparse.csr_matrix((np.asarray(vals, float), (rows, cols)), shape=(len(parsed), width))
    try:
        return np.asarray([values for values, _, _ in parsed], dtype=np.float64).reshape(len(parsed), -1)
    except ValueError:
        raise ClientError("instances must hold numbers only, all of the same length") from None


def check_finite(X, allow_nan: bool = False) -> None:
    """Inference input must be numbers: NaN and infinity are refused as the client's error (so
    an endpoint never answers NaN, which is not JSON); allow_nan for XGBoost, where NaN means
    a missing value."""
    values = X.data if sparse.issparse(X) else np.asarray(X)
    bad = np.isinf(values) if allow_nan else ~np.isfinite(values)
    if bad.any():
        raise ClientError("the request holds " + ("infinite values" if allow_nan else "NaN or infinite values")
                          + ": features must be finite numbers")


def parse_request(body: bytes, content_type: str | None, feature_dim: int | None = None, allow_nan: bool = False):
    """The feature matrix of an inference request (dense ndarray or CSR), finite numbers only."""
    kind = media_type(content_type, CSV)
    if kind == CSV:
        text = body.decode("utf-8", errors="replace").strip()
        if not text:
            raise ClientError("empty CSV request")
        try:
            X = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2)
        except ValueError as err:
            raise ClientError(f"unable to parse CSV request: {err}") from None
    elif kind == JSON:
        try:
            payload = json.loads(body)
        except ValueError:
            raise ClientError("unable to parse JSON request") from None
        instances = payload.get("instances") if isinstance(payload, dict) else payload
        if isinstance(payload, dict) and instances is None and ("features" in payload or "data" in payload):
            instances = [payload]
        if not isinstance(instances, list) or not instances:
            raise ClientError("JSON request needs a non-empty 'instances' list")
        X = _instances_to_matrix(instances, feature_dim)
    elif kind == JSONLINES:
        try:
            instances = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        except ValueError:
            raise ClientError("unable to parse JSON lines request") from None
        X = _instances_to_matrix(instances, feature_dim)
    elif kind in (RECORDIO, "application/x-recordio"):
        X, _ = records_to_matrix(read_recordio_records(body), feature_dim)
    else:
        raise ClientError(f"content type {kind!r} is not supported")
    check_feature_dim(X, feature_dim, "request")
    check_finite(X, allow_nan)
    return X


# ---------------------------------------------------------------- inference responses
def encode_predictions(predictions: list[dict], accept: str | None, default: str = JSON) -> tuple[bytes, str]:
    """Predictions (one dict per record) in the content type the client accepts."""
    kind = media_type(accept if accept and accept != "*/*" else None, default)
    try:  # allow_nan=False: JSON has no NaN; a model that produced one is the server's error
        if kind == JSON:
            return json.dumps({"predictions": predictions}, allow_nan=False).encode(), JSON
        if kind == JSONLINES:
            return "".join(json.dumps(p, allow_nan=False) + "\n" for p in predictions).encode(), JSONLINES
    except ValueError:
        raise RuntimeError("the model produced a non-finite prediction") from None
    if kind in (RECORDIO, "application/x-recordio"):
        from sagemaker.amazon.common import _write_recordio
        from sagemaker.amazon.record_pb2 import Record

        out = io.BytesIO()
        for prediction in predictions:
            record = Record()
            for key, value in prediction.items():
                values = value if isinstance(value, list) else [value]
                record.label[key].float32_tensor.values.extend(float(v) for v in values)
            _write_recordio(out, record.SerializeToString())
        return out.getvalue(), RECORDIO
    raise ClientError(f"accept type {kind!r} is not supported (use {JSON}, {JSONLINES} or {RECORDIO})")
