"""Score with a Spark ML PipelineModel saved by `model.save(path)`, without Spark.

`PipelineModel.save` writes each stage's parameters as JSON (`metadata/part-00000`) and
its learned values as Parquet (`data/*.parquet`). For the stages of chapter 16's
pipeline (VectorAssembler, then LinearRegressionModel) a prediction is a dot product, so
a web service can read those files and answer in microseconds, instead of keeping a JVM
and building a one-row DataFrame for every request (tens of milliseconds, ~1 GB per
worker). Any other stage is refused with a clear error rather than scored wrongly.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ASSEMBLER = "org.apache.spark.ml.feature.VectorAssembler"
LINEAR = "org.apache.spark.ml.regression.LinearRegressionModel"


class UnsupportedPipeline(ValueError):
    """The saved pipeline has a stage this reader cannot score."""


def _metadata(stage_dir: Path) -> dict:
    parts = sorted((stage_dir / "metadata").glob("part-*"))
    if not parts:
        raise FileNotFoundError(f"{stage_dir} holds no saved Spark ML metadata (metadata/part-00000); "
                                "save the model with PipelineModel.save(path) or write().save(path)")
    return json.loads(parts[0].read_text().splitlines()[0])


def _param(meta: dict, name: str):
    return meta["paramMap"].get(name, meta.get("defaultParamMap", {}).get(name))


def _vector(value: dict) -> np.ndarray:
    """Spark's VectorUDT as Parquet stores it: type 1 dense (values), 0 sparse (size, indices, values)."""
    if value["type"] == 1:
        return np.asarray(value["values"], dtype=float)
    dense = np.zeros(value["size"])
    dense[np.asarray(value["indices"], dtype=int)] = value["values"]
    return dense


@dataclass
class LinearPipeline:
    """VectorAssembler(features) -> LinearRegressionModel, as saved by Spark."""

    features: list[str]
    coefficients: np.ndarray
    intercept: float
    spark_version: str

    def predict(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=float)
        if rows.ndim != 2 or rows.shape[1] != len(self.features):
            raise ValueError(f"expected rows of {len(self.features)} values ({', '.join(self.features)})")
        if not np.isfinite(rows).all():  # VectorAssembler's handleInvalid='error' refuses NaN too
            raise ValueError("feature values must be finite numbers")
        return rows @ self.coefficients + self.intercept


def load_pipeline(path: str | Path) -> LinearPipeline:
    import pyarrow.parquet as pq

    path = Path(path)
    meta = _metadata(path)
    if meta["class"] != "org.apache.spark.ml.PipelineModel":
        raise UnsupportedPipeline(f"{path} holds a {meta['class']}, not a PipelineModel")
    stage_dirs = sorted((path / "stages").iterdir(), key=lambda p: int(p.name.split("_", 1)[0]))
    stages = [(_metadata(d), d) for d in stage_dirs]
    classes = [m["class"] for m, _ in stages]
    if classes != [ASSEMBLER, LINEAR]:
        raise UnsupportedPipeline(f"this service scores VectorAssembler -> LinearRegressionModel "
                                  f"pipelines; {path} has {[c.rsplit('.', 1)[-1] for c in classes]}")
    (assembler, _), (linear, linear_dir) = stages
    if _param(assembler, "outputCol") != _param(linear, "featuresCol"):
        raise UnsupportedPipeline("the regression does not read the assembler's output column")
    row = pq.read_table(sorted((linear_dir / "data").glob("*.parquet"))[0]).to_pylist()[0]
    coefficients = _vector(row["coefficients"])
    features = list(_param(assembler, "inputCols"))
    if len(coefficients) != len(features) or not math.isfinite(row["intercept"]):
        raise UnsupportedPipeline(f"{len(coefficients)} coefficients for {len(features)} features")
    return LinearPipeline(features, coefficients, float(row["intercept"]), meta.get("sparkVersion", "?"))
