"""Chapter 16's model services, each started as a real server process on 127.0.0.1.

The pipeline is trained and saved by Spark once; the services must give Spark's own
predictions, refuse bad requests with 400 and a JSON error, and stay error-free under a
bounded load from several threads.
"""
from __future__ import annotations

import json
import shutil
import sys

import pytest

from benchmarks.model_service_latency import (CHAPTER, FEATURES, call, invocations_sender, load_test,
                                              predict_sender, running_service, train_pipeline)

sys.path.insert(0, str(CHAPTER))
from model_service.spark_pipeline import UnsupportedPipeline, load_pipeline  # noqa: E402

LOAD = {"requests": 200, "threads": 8, "time_limit": 60}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(model directory, rows with Spark's predictions)."""
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("test-model-services").master("local[1]").getOrCreate()
    try:
        model_dir = tmp_path_factory.mktemp("model") / "linear-model"
        rows = train_pipeline(spark, model_dir)
    finally:
        spark.stop()
    return model_dir, rows


def query(row: dict) -> str:
    return "&".join(f"{f}={row[f]}" for f in FEATURES)


# ------------------------------------------------------------------ the saved-pipeline reader
def test_reader_gives_sparks_predictions(trained):
    model_dir, rows = trained
    pipeline = load_pipeline(model_dir)
    assert pipeline.features == FEATURES
    predicted = pipeline.predict([[r[f] for f in FEATURES] for r in rows])
    assert predicted == pytest.approx([r["prediction"] for r in rows], abs=1e-9)


def test_reader_refuses_what_it_cannot_score(trained, tmp_path):
    model_dir, _ = trained
    with pytest.raises(FileNotFoundError, match="PipelineModel.save"):
        load_pipeline(tmp_path)
    changed = tmp_path / "changed"
    shutil.copytree(model_dir, changed)
    stage = next(p for p in (changed / "stages").iterdir() if "LinearRegression" in p.name)
    meta_file = stage / "metadata" / "part-00000"
    meta = json.loads(meta_file.read_text())
    meta["class"] = "org.apache.spark.ml.regression.RandomForestRegressionModel"
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(UnsupportedPipeline, match="RandomForestRegressionModel"):
        load_pipeline(changed)


@pytest.mark.parametrize("kind", ["waitress", "serve"])
def test_service_without_a_model_stops_at_once(kind, tmp_path):
    with pytest.raises(RuntimeError, match="PipelineModel.save"):
        with running_service(kind, tmp_path / "nothing-here", timeout=30):
            pass


# ------------------------------------------------------------------ GET /predict
@pytest.fixture(scope="module", params=["waitress", "gunicorn"])
def predict_url(request, trained):
    with running_service(request.param, trained[0]) as url:
        yield url


def test_predict_answers_with_sparks_prediction(predict_url, trained):
    for row in trained[1][:5]:
        status, body = call(f"{predict_url}/predict?{query(row)}")
        assert status == 200
        assert body["prediction"] == pytest.approx(row["prediction"], abs=1e-9)
        assert body["features"] == {f: row[f] for f in FEATURES}


@pytest.mark.parametrize("params, message", [
    ("crim=0.1&zn=18", "missing indus"),
    ("", "missing crim, zn, indus"),
    ("crim=abc&zn=18&indus=2.3", "crim='abc' is not a number"),
    ("crim=0.1&zn=inf&indus=2.3", "not a finite number"),
    ("crim=0.1&zn=18&indus=2.3&rm=6", "unknown rm"),
])
def test_predict_rejects_bad_parameters(predict_url, params, message):
    status, body = call(f"{predict_url}/predict?{params}")
    assert status == 400
    assert message in body["error"]


def test_predict_wrong_method_or_path_is_a_json_error(predict_url):
    assert call(f"{predict_url}/predict?crim=1", body=b"")[0] == 405
    status, body = call(f"{predict_url}/nowhere")
    assert status == 404 and "error" in body


def test_predict_under_load(predict_url, trained):
    result = load_test(predict_sender(predict_url, trained[1]), **LOAD)
    assert result["failures"] == [] and result["requests"] == LOAD["requests"]


# ------------------------------------------------------------------ SageMaker container contract
@pytest.fixture(scope="module")
def container_url(trained):
    with running_service("serve", trained[0]) as url:
        yield url


def test_ping(container_url):
    assert call(f"{container_url}/ping")[0] == 200


def test_invocations_csv_and_json(container_url, trained):
    rows = trained[1][:4]
    expected = [r["prediction"] for r in rows]
    csv_body = "".join(f"{r['crim']},{r['zn']},{r['indus']}\n" for r in rows).encode()
    status, body = call(f"{container_url}/invocations", csv_body, {"Content-Type": "text/csv"})
    assert status == 200
    assert [p["score"] for p in body["predictions"]] == pytest.approx(expected, abs=1e-9)

    by_name = json.dumps({"instances": [{f: r[f] for f in FEATURES} for r in rows]}).encode()
    status, body = call(f"{container_url}/invocations", by_name,
                        {"Content-Type": "application/json", "Accept": "text/csv"})
    assert status == 200
    assert [float(line) for line in body.split()] == pytest.approx(expected, abs=1e-9)

    as_lists = json.dumps({"instances": [[r[f] for f in FEATURES] for r in rows]}).encode()
    status, body = call(f"{container_url}/invocations", as_lists, {"Content-Type": "application/json"})
    assert [p["score"] for p in body["predictions"]] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("body, content_type, status, message", [
    (b"0.1,18\n", "text/csv", 400, "expected 3 values"),
    (b"0.1,abc,2.3\n", "text/csv", 400, "not a number"),
    (b"", "text/csv", 400, "no rows"),
    (b"{not json", "application/json", 400, "not valid JSON"),
    (b'{"instances": [{"crim": 1, "zn": 2}]}', "application/json", 400, "without indus"),
    (b"0.1 18 2.3", "text/plain", 415, "unsupported content type"),
])
def test_invocations_reject_bad_input(container_url, body, content_type, status, message):
    got, answer = call(f"{container_url}/invocations", body, {"Content-Type": content_type})
    assert got == status
    assert message in answer["error"]


def test_invocations_unknown_accept_type(container_url):
    status, _ = call(f"{container_url}/invocations", b"0.1,18,2.3\n",
                     {"Content-Type": "text/csv", "Accept": "application/x-protobuf"})
    assert status == 406


def test_invocations_under_load(container_url, trained):
    result = load_test(invocations_sender(container_url, trained[1]), **LOAD)
    assert result["failures"] == [] and result["requests"] == LOAD["requests"]


def test_dockerfile_installs_what_serve_needs():
    """No Docker engine here: check the image recipe against the program it packages."""
    service = CHAPTER / "model_service"
    dockerfile = (service / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r /opt/program/model_service/requirements.txt" in dockerfile
    assert 'PATH="/opt/program/model_service:' in dockerfile  # SageMaker runs `serve` from PATH
    pinned = dict(line.split("==") for line in (service / "requirements.txt").read_text().split()
                  if "==" in line)
    assert set(pinned) == {"flask", "gunicorn", "numpy", "pyarrow"}
    for name, version in pinned.items():  # the image gets the versions the tests ran with
        from importlib.metadata import version as installed

        assert installed(name) == version, name
