"""Latency of chapter 16's model services, each a real server process on 127.0.0.1.

    .venv/bin/python benchmarks/model_service_latency.py [--requests 2000] [--threads 8]

Trains the chapter's Spark pipeline (crim, zn, indus -> medv) once, then measures:
- the book's way to score one request in-process: a one-row DataFrame through
  `PipelineModel.transform` (a JVM per service);
- `GET /predict` under waitress and under gunicorn;
- the SageMaker container's `POST /invocations` (the `serve` program, gunicorn).
Only loopback traffic; every loop is bounded in count and time. The helpers here also
start the services for tests/test_model_services.py.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "chapter16_deployment"
HOUSING_CSV = ROOT / "data" / "samples" / "housing" / "train.csv"
FEATURES = ["crim", "zn", "indus"]
HOST = "127.0.0.1"
SERVICES = {  # what the benchmark starts, and how its table names each
    "waitress": "GET /predict, waitress (8 threads)",
    "gunicorn": "GET /predict, gunicorn (2 workers)",
    "serve": "POST /invocations, serve (gunicorn, 2 workers)",
}


def train_pipeline(spark, model_dir: Path, rows: int = 20) -> list[dict]:
    """Fit and save the chapter's pipeline; return `rows` rows with Spark's own predictions."""
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.regression import LinearRegression

    housing = spark.read.csv(str(HOUSING_CSV), header=True, inferSchema=True).select(*FEATURES, "medv")
    pipeline = Pipeline(stages=[VectorAssembler(inputCols=FEATURES, outputCol="features"),
                                LinearRegression(featuresCol="features", labelCol="medv")])
    model = pipeline.fit(housing)
    model.write().overwrite().save(str(model_dir))
    scored = model.transform(housing.limit(rows)).select(*FEATURES, "prediction")
    return [row.asDict() for row in scored.collect()]  # a bounded sample, never the whole table


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def commands(port: int) -> dict[str, list[str]]:
    """How each service is started (working directory: chapter16_deployment)."""
    python = sys.executable
    return {
        "waitress": [python, "-m", "waitress", f"--listen={HOST}:{port}", "--threads=8",
                     "--call", "model_service.predict_app:create_app"],
        "gunicorn": [python, "-m", "gunicorn", "--bind", f"{HOST}:{port}", "--workers", "2",
                     "--no-control-socket", "model_service.predict_app:create_app()"],
        "serve": [python, str(CHAPTER / "model_service" / "serve")],
    }


@contextmanager
def running_service(kind: str, model_dir: Path, ready_path: str | None = None, timeout: float = 30):
    """Start a service as its own process; yield its base URL once it answers; stop it."""
    port = free_port()
    env = {**os.environ, "MODEL_DIR": str(model_dir), "SERVE_HOST": HOST,
           "SAGEMAKER_BIND_TO_PORT": str(port), "MODEL_SERVER_WORKERS": "2"}
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(commands(port)[kind], cwd=CHAPTER, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://{HOST}:{port}"
    ready = ready_path or ("/ping" if kind == "serve" else "/health")
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"{kind} exited with {process.returncode}:\n{log.read().decode()[-3000:]}")
            try:
                if call(url + ready)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{kind} did not answer {ready} within {timeout} s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def call(url: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 10):
    """(status, parsed JSON or text) of one request; HTTP errors are answers, not exceptions."""
    method = "POST" if body is not None else "GET"
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, data, kind = response.status, response.read(), response.headers.get_content_type()
    except urllib.error.HTTPError as err:
        status, data, kind = err.code, err.read(), err.headers.get_content_type()
    return status, (json.loads(data) if kind == "application/json" and data else data.decode())


def load_test(send, requests: int, threads: int, time_limit: float) -> dict:
    """Run `send(i) -> bool` `requests` times from `threads` threads, stopping at `time_limit` s.
    Returns counts and latency percentiles in milliseconds."""
    deadline = time.monotonic() + time_limit
    latencies: list[float] = []
    failures: list[str] = []

    def one(i: int) -> None:
        if time.monotonic() > deadline:
            failures.append(f"request {i}: not sent, time limit reached")
            return
        started = time.perf_counter()
        try:
            ok = send(i)
        except Exception as err:  # a refused or broken connection is a failure to report
            ok, detail = False, repr(err)
        else:
            detail = "wrong answer"
        latencies.append((time.perf_counter() - started) * 1000)
        if not ok:
            failures.append(f"request {i}: {detail}")

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(requests)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [float("nan")]
    return {"requests": len(latencies), "failures": failures, "seconds": elapsed,
            "per_second": len(latencies) / elapsed,
            "p50_ms": statistics.median(ordered), "p99_ms": percentile(ordered, 0.99)}


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def predict_sender(url: str, rows: list[dict]):
    """A load-test request: GET /predict for row i, checked against Spark's prediction."""
    def send(i: int) -> bool:
        row = rows[i % len(rows)]
        status, body = call(f"{url}/predict?" + "&".join(f"{f}={row[f]}" for f in FEATURES))
        return status == 200 and abs(body["prediction"] - row["prediction"]) < 1e-9
    return send


def invocations_sender(url: str, rows: list[dict]):
    """A load-test request: POST /invocations with row i as CSV, checked against Spark."""
    def send(i: int) -> bool:
        row = rows[i % len(rows)]
        body = ",".join(str(row[f]) for f in FEATURES).encode()
        status, answer = call(f"{url}/invocations", body, {"Content-Type": "text/csv"})
        return status == 200 and abs(answer["predictions"][0]["score"] - row["prediction"]) < 1e-9
    return send


def spark_one_row_latency(spark, model_dir: Path, repeats: int) -> dict:
    """The book's service body: a one-row DataFrame through the loaded PipelineModel."""
    from pyspark.ml import PipelineModel
    from pyspark.sql.types import DoubleType, StructField, StructType

    model = PipelineModel.load(str(model_dir))
    schema = StructType([StructField(f, DoubleType()) for f in FEATURES])
    latencies = []
    for i in range(repeats):
        started = time.perf_counter()
        frame = spark.createDataFrame([(0.00632 + i * 1e-4, 18.0, 2.31)], schema=schema)
        model.transform(frame).first()
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    return {"requests": repeats, "p50_ms": statistics.median(latencies), "p99_ms": percentile(latencies, 0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--time-limit", type=float, default=120, help="seconds per service, at most")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from tools.notebook_env import prepare_notebook_environment

    prepare_notebook_environment()
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("model-service-latency").master("local[2]").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "linear-model"
        rows = train_pipeline(spark, model_dir)
        results = {"Spark transform, one row, in-process": spark_one_row_latency(spark, model_dir, 200)}
        spark.stop()
        for kind, label in SERVICES.items():
            with running_service(kind, model_dir) as url:
                send = invocations_sender(url, rows) if kind == "serve" else predict_sender(url, rows)
                results[label] = load_test(send, args.requests, args.threads, args.time_limit)

    print(f"{'service':52} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}")
    for label, r in results.items():
        print(f"{label:52} {r['requests']:8d} {len(r.get('failures', [])):6d} "
              f"{r.get('per_second', float('nan')):7.0f} {r['p50_ms']:7.2f} {r['p99_ms']:7.2f}")


if __name__ == "__main__":
    main()
