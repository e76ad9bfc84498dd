"""SageMaker k-means offline: the algorithm alone, then through the SDK's KMeans estimator."""
from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest
import sagemaker
from sagemaker import KMeans

from localaws.sagemaker.algorithms import for_image, kmeans
from localaws.sagemaker.algorithms.base import Channel, ClientError, parse_hyperparameters

from .helpers import csv_bytes, unique

IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/kmeans:1"


def blobs(n=600, k=3, d=4, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6, size=(k, d))
    labels = rng.integers(0, k, size=n)
    return centres[labels] + rng.normal(size=(n, d)), labels


def channel(tmp_path, name, data: bytes, content_type=None) -> Channel:
    folder = tmp_path / name
    folder.mkdir(parents=True)
    (folder / "part-0").write_bytes(data)
    return Channel(name, folder, content_type)


def recordio(X) -> bytes:
    from sagemaker.amazon.common import write_numpy_to_dense_tensor

    buffer = io.BytesIO()
    write_numpy_to_dense_tensor(buffer, np.asarray(X, dtype="float32"))
    return buffer.getvalue()


def hp(**given):
    return parse_hyperparameters(kmeans.HYPERPARAMETERS, {k: str(v) for k, v in given.items()})


def test_the_image_selects_kmeans():
    assert for_image(IMAGE) is kmeans


def test_finds_the_clusters_and_reports_test_metrics(tmp_path):
    from sklearn.metrics import adjusted_rand_score

    X, labels = blobs()
    metrics = kmeans.train({"train": channel(tmp_path, "train", recordio(X[:500])),
                            "test": channel(tmp_path, "test", csv_bytes(X[500:]), "text/csv")},
                           hp(k=3, feature_dim=4, eval_metrics='["msd","ssd"]'), tmp_path / "model", print)
    # one-cluster baseline: the variance around the overall mean
    baseline = ((X[500:] - X[:500].mean(axis=0)) ** 2).sum(axis=1).mean()
    assert metrics["test:msd"] < 0.1 * baseline
    assert metrics["test:ssd"] == pytest.approx(metrics["test:msd"] * 100)
    model = kmeans.load(tmp_path / "model")
    body, kind = model.predict(csv_bytes(X[500:]), "text/csv", "application/json")
    predictions = json.loads(body)["predictions"]
    assert kind == "application/json" and set(predictions[0]) == {"closest_cluster", "distance_to_cluster"}
    assigned = [p["closest_cluster"] for p in predictions]
    assert adjusted_rand_score(labels[500:], assigned) > 0.95


def test_recordio_request_and_answer(tmp_path):
    from sagemaker.amazon.common import read_records

    X, _ = blobs(200)
    kmeans.train({"train": channel(tmp_path, "train", recordio(X))}, hp(k=3, feature_dim=4), tmp_path / "m", print)
    model = kmeans.load(tmp_path / "m")
    body, kind = model.predict(recordio(X[:5]), "application/x-recordio-protobuf", "application/x-recordio-protobuf")
    records = read_records(io.BytesIO(body))
    assert len(records) == 5 and kind == "application/x-recordio-protobuf"
    distance = records[0].label["distance_to_cluster"].float32_tensor.values[0]
    centre = model.centres[int(records[0].label["closest_cluster"].float32_tensor.values[0])]
    assert distance == pytest.approx(np.linalg.norm(X[0] - centre), rel=1e-4)


def test_bad_input_is_a_client_error(tmp_path):
    with pytest.raises(ClientError, match="which are required hyperparameter"):
        hp(k=3)
    with pytest.raises(ClientError, match="Additional hyperparameters are not allowed"):
        hp(k=3, feature_dim=4, n_clusters=3)
    with pytest.raises(ClientError, match="eval_metrics"):
        kmeans.train({"train": channel(tmp_path, "t", recordio(blobs(50)[0]))},
                     hp(k=3, feature_dim=4, eval_metrics='["auc"]'), tmp_path / "m", print)
    with pytest.raises(ClientError, match="feature_dim"):
        kmeans.train({"train": channel(tmp_path, "u", recordio(blobs(50)[0]))},
                     hp(k=3, feature_dim=7), tmp_path / "m", print)


def test_the_sdks_kmeans_fit_deploy_predict_transform():
    session = sagemaker.Session()
    bucket = session.default_bucket()
    X, labels = blobs(400, seed=3)
    estimator = KMeans(role=os.environ["SAGEMAKER_ROLE_ARN"], instance_count=1, instance_type="ml.m5.large",
                       k=3, output_path=f"s3://{bucket}/{unique('kmeans')}/output",
                       data_location=f"s3://{bucket}/{unique('kmeans')}/data", sagemaker_session=session,
                       eval_metrics=["msd", "ssd"])
    train = estimator.record_set(X[:300].astype("float32"))
    test = estimator.record_set(X[300:].astype("float32"), channel="test")
    estimator.fit([train, test])
    job = session.describe_training_job(estimator.latest_training_job.name)
    final = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert final["test:msd"] < 0.1 * X.var(axis=0).sum()

    predictor = estimator.deploy(1, "ml.m5.large")
    try:
        records = predictor.predict(X[300:310].astype("float32"))
        assigned = [r.label["closest_cluster"].float32_tensor.values[0] for r in records]
        assert len(assigned) == 10
        same = labels[300:310][:, None] == labels[300:310][None, :]
        assert ((np.array(assigned)[:, None] == np.array(assigned)[None, :]) == same).all()
    finally:
        predictor.delete_model()
        predictor.delete_endpoint()

    features = f"s3://{bucket}/{unique('kmeans-features')}"
    sagemaker.s3.S3Uploader.upload_string_as_file_body(csv_bytes(X[300:]).decode(), f"{features}/x.csv",
                                                       sagemaker_session=session)
    transformer = estimator.transformer(1, "ml.m5.large", accept="application/jsonlines", assemble_with="Line",
                                        strategy="MultiRecord", output_path=f"{features}-out")
    transformer.transform(features, content_type="text/csv", split_type="Line")
    lines = sagemaker.s3.S3Downloader.read_file(f"{features}-out/x.csv.out", session).splitlines()
    assert len(lines) == 100 and "closest_cluster" in json.loads(lines[0])
    session.delete_model(transformer.model_name)
