"""The book's prediction service: `GET /predict?crim=0.00632&zn=18.0&indus=2.31`.

    MODEL_DIR=work/linear-model waitress-serve --port 5000 --call model_service.predict_app:create_app
    MODEL_DIR=work/linear-model gunicorn -w 2 -b 0.0.0.0:5000 'model_service.predict_app:create_app()'

The query parameters are the features the saved pipeline was trained on (its
VectorAssembler's input columns). Answers are JSON; a missing, unknown or non-numeric
parameter gets `400` with `{"error": ...}`.
"""
from __future__ import annotations

import math
import os

from flask import Flask, jsonify, request

from .spark_pipeline import load_pipeline


def parse_features(args, features: list[str]) -> list[float]:
    """The feature values from the query string, in the model's order (ValueError if bad)."""
    unknown = sorted(set(args) - set(features))
    missing = [f for f in features if f not in args]
    if missing or unknown:
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unknown {', '.join(unknown)}"] if unknown else []
        raise ValueError(f"{'; '.join(problems)} (expected parameters: {', '.join(features)})")
    values = []
    for name in features:
        try:
            value = float(args[name])
        except ValueError:
            raise ValueError(f"{name}={args[name]!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{name}={args[name]!r} is not a finite number")
        values.append(value)
    return values


def create_app(model_dir: str | None = None) -> Flask:
    model_dir = model_dir or os.environ.get("MODEL_DIR", "/opt/ml/model")
    pipeline = load_pipeline(model_dir)  # at start-up: a broken model stops the service at once
    app = Flask(__name__)

    @app.get("/predict")
    def predict():
        try:
            values = parse_features(request.args, pipeline.features)
        except ValueError as err:
            return jsonify(error=str(err)), 400
        prediction = float(pipeline.predict([values])[0])
        return jsonify(prediction=prediction, features=dict(zip(pipeline.features, values)))

    @app.get("/health")
    def health():
        return jsonify(status="ok", features=pipeline.features, spark_version=pipeline.spark_version)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def not_here(err):
        return jsonify(error=f"{request.method} {request.path}: {err.description}"), err.code

    return app
