"""SageMaker's contract for a model container: `GET /ping` and `POST /invocations`.

Requests: `text/csv` (one row of feature values per line, no header) or `application/json`
(`{"instances": [[…], …]}` or `{"instances": [{"crim": …, …}, …]}`). Answers: JSON
`{"predictions": [{"score": …}, …]}` or, with `Accept: text/csv`, one score per line.
Bad input gets `400` (`415` for an unknown content type, `406` for an unknown accept type)
with `{"error": ...}`, which SageMaker Runtime passes back to the caller as a ModelError.
"""
from __future__ import annotations

import csv
import io
import json
import os

from flask import Flask, Response, jsonify, request

from .spark_pipeline import LinearPipeline, load_pipeline

MAX_ROWS = 10_000


def rows_from_csv(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text)) if row]


def rows_from_json(text: str, features: list[str]) -> list:
    try:
        body = json.loads(text)
    except ValueError:
        raise ValueError("the body is not valid JSON") from None
    instances = body.get("instances") if isinstance(body, dict) else body
    if not isinstance(instances, list):
        raise ValueError('expected {"instances": [...]}')
    rows = []
    for instance in instances:
        if isinstance(instance, dict):
            missing = [f for f in features if f not in instance]
            if missing:
                raise ValueError(f"instance without {', '.join(missing)}")
            instance = [instance[f] for f in features]
        rows.append(instance)
    return rows


def to_matrix(rows: list, width: int) -> list[list[float]]:
    if not rows:
        raise ValueError("no rows to score")
    if len(rows) > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS} rows per request")
    matrix = []
    for number, row in enumerate(rows, 1):
        if not isinstance(row, list) or len(row) != width:
            raise ValueError(f"row {number}: expected {width} values")
        try:
            matrix.append([float(v) for v in row])
        except (TypeError, ValueError):
            raise ValueError(f"row {number}: {row!r} holds a value that is not a number") from None
    return matrix


def answer(scores, accept: str) -> Response:
    if "text/csv" in accept:
        return Response("".join(f"{s}\n" for s in scores), mimetype="text/csv")
    return Response(json.dumps({"predictions": [{"score": float(s)} for s in scores]}),
                    mimetype="application/json")


def create_app(model_dir: str | None = None) -> Flask:
    model_dir = model_dir or os.environ.get("MODEL_DIR", "/opt/ml/model")
    pipeline: LinearPipeline = load_pipeline(model_dir)
    app = Flask(__name__)

    @app.get("/ping")
    def ping():
        return Response(status=200)  # the model loaded at start-up, so the container is healthy

    @app.post("/invocations")
    def invocations():
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        accept = (request.headers.get("Accept") or "application/json").lower()
        if not any(a in accept for a in ("application/json", "text/csv", "*/*")):
            return jsonify(error=f"cannot answer {accept}; use application/json or text/csv"), 406
        text = request.get_data(as_text=True)
        try:
            if content_type == "text/csv":
                rows = rows_from_csv(text)
            elif content_type == "application/json":
                rows = rows_from_json(text, pipeline.features)
            else:
                return jsonify(error=f"unsupported content type {content_type or 'none'}; "
                                     "send text/csv or application/json"), 415
            scores = pipeline.predict(to_matrix(rows, len(pipeline.features)))
        except ValueError as err:
            return jsonify(error=str(err)), 400
        return answer(scores, accept)

    return app
