"""SageMaker factorization machines offline: the numpy FM alone, then through the SDK."""
from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest
import sagemaker
from scipy import sparse

from localaws.sagemaker.algorithms import factorization_machines as fm, for_image
from localaws.sagemaker.algorithms.base import Channel, ClientError, parse_hyperparameters

from .helpers import unique

IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/factorization-machines:1"
USERS, ITEMS = 120, 20


def ratings(seed=0, n=2400):
    """One-hot (user, item) rows whose rating comes from a rank-2 taste model plus biases:
    only a model with user x item interactions can predict it well."""
    rng = np.random.default_rng(seed)
    U, V = rng.normal(size=(USERS, 2)), rng.normal(size=(ITEMS, 2))
    item_bias = rng.normal(scale=0.5, size=ITEMS)
    users, items = rng.integers(0, USERS, n), rng.integers(0, ITEMS, n)
    y = 2.0 + item_bias[items] + (U[users] * V[items]).sum(axis=1) + rng.normal(scale=0.2, size=n)
    X = sparse.csr_matrix((np.ones(2 * n), (np.repeat(np.arange(n), 2), np.column_stack([items, ITEMS + users]).ravel())),
                          shape=(n, USERS + ITEMS))
    return X, y


def recordio(X, y=None) -> bytes:
    from sagemaker.amazon.common import write_spmatrix_to_sparse_tensor

    buffer = io.BytesIO()
    write_spmatrix_to_sparse_tensor(buffer, X, None if y is None else np.asarray(y, dtype="float32"))
    return buffer.getvalue()


def channel(tmp_path, name, data: bytes) -> Channel:
    folder = tmp_path / name
    folder.mkdir(parents=True)
    (folder / "part-0").write_bytes(data)
    return Channel(name, folder, None)


def hp(**given):
    return parse_hyperparameters(fm.HYPERPARAMETERS, {k: str(v) for k, v in given.items()})


def fit(tmp_path, X, y, split=2000, **given):
    metrics = fm.train({"train": channel(tmp_path, "train", recordio(X[:split], y[:split])),
                        "test": channel(tmp_path, "test", recordio(X[split:], y[split:]))},
                       hp(feature_dim=X.shape[1], **given), tmp_path / "model", print)
    return fm.load(tmp_path / "model"), metrics


def test_the_image_selects_factorization_machines():
    assert for_image(IMAGE) is fm


def test_regressor_learns_the_interactions(tmp_path):
    X, y = ratings()
    settings = dict(predictor_type="regressor", epochs=60, mini_batch_size=100,
                    factors_lr=0.02, linear_lr=0.02, factors_init_sigma=0.1)
    model, metrics = fit(tmp_path / "fm", X, y, num_factors=4, **settings)
    _, linear_only = fit(tmp_path / "linear", X, y, num_factors=1, **{
        **settings, "factors_lr": 0.0, "factors_init_method": "constant", "factors_init_value": 0.0})
    mean_baseline = float(np.sqrt(np.mean((y[2000:] - y[:2000].mean()) ** 2)))
    print(metrics, linear_only, mean_baseline)
    assert linear_only["test:rmse"] < mean_baseline  # the biases alone help a little ...
    assert metrics["test:rmse"] < 0.6 * linear_only["test:rmse"]  # ... the factors a lot

    # the sparse JSON request of the book, and the same row as a dense instance
    row = X[2000]
    sparse_request = {"instances": [{"data": {"features": {
        "shape": [X.shape[1]], "keys": row.indices.tolist(), "values": row.data.tolist()}}}]}
    dense_request = {"instances": [{"features": row.toarray().ravel().tolist()}]}
    answers = [json.loads(model.predict(json.dumps(r).encode(), "application/json", None)[0])
               for r in (sparse_request, dense_request)]
    assert answers[0] == answers[1] and set(answers[0]["predictions"][0]) == {"score"}
    assert abs(answers[0]["predictions"][0]["score"] - y[2000]) < 1.5


def test_binary_classifier_beats_the_majority_class(tmp_path):
    X, y = ratings(seed=1)
    labels = (y > np.median(y)).astype(float)
    model, metrics = fit(tmp_path, X, labels, predictor_type="binary_classifier", num_factors=4, epochs=40,
                         mini_batch_size=100, factors_lr=0.02, linear_lr=0.02, factors_init_sigma=0.1)
    majority = max(labels[2000:].mean(), 1 - labels[2000:].mean())
    assert metrics["test:binary_classification_accuracy"] > majority + 0.2
    answer = json.loads(model.predict(recordio(X[:2]), "application/x-recordio-protobuf", "application/json")[0])
    assert set(answer["predictions"][0]) == {"score", "predicted_label"}


def test_bad_input_is_a_client_error(tmp_path):
    with pytest.raises(ClientError, match="which are required hyperparameter"):
        hp(feature_dim=10, predictor_type="regressor")
    with pytest.raises(ClientError, match="predictor_type"):
        hp(feature_dim=10, num_factors=2, predictor_type="multiclass_classifier")
    X, y = ratings(n=50)
    with pytest.raises(ClientError, match="labels must be 0 or 1"):
        fit(tmp_path, X, y, split=40, predictor_type="binary_classifier", num_factors=2)
    with pytest.raises(ClientError, match="every record needs a label"):
        fm.train({"train": channel(tmp_path, "unlabelled", recordio(X))},
                 hp(feature_dim=X.shape[1], num_factors=2, predictor_type="regressor"), tmp_path / "m", print)


def test_the_sdks_factorization_machines_fit_deploy_predict_transform():
    from sagemaker import FactorizationMachines
    from sagemaker.deserializers import JSONDeserializer
    from sagemaker.serializers import JSONSerializer

    session = sagemaker.Session()
    bucket = session.default_bucket()
    X, y = ratings(seed=2)
    prefix = f"s3://{bucket}/{unique('fm')}"
    for name, rows in (("train", slice(0, 2000)), ("test", slice(2000, None))):
        sagemaker.s3.S3Uploader.upload_bytes(recordio(X[rows], y[rows]), f"{prefix}/{name}/part-0",
                                             sagemaker_session=session)
    estimator = FactorizationMachines(role=os.environ["SAGEMAKER_ROLE_ARN"], instance_count=1,
                                      instance_type="ml.m5.large", num_factors=4, predictor_type="regressor",
                                      epochs=40, mini_batch_size=100, factors_lr=0.02, linear_lr=0.02,
                                      factors_init_sigma=0.1, output_path=f"{prefix}/output",
                                      sagemaker_session=session)
    from sagemaker.amazon.amazon_estimator import RecordSet

    estimator.fit([RecordSet(f"{prefix}/train/", 2000, X.shape[1], s3_data_type="S3Prefix", channel="train"),
                   RecordSet(f"{prefix}/test/", 400, X.shape[1], s3_data_type="S3Prefix", channel="test")],
                  mini_batch_size=100)
    job = session.describe_training_job(estimator.latest_training_job.name)
    final = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert final["test:rmse"] < 0.5 * y.std()

    predictor = estimator.deploy(1, "ml.m5.large", serializer=JSONSerializer(), deserializer=JSONDeserializer())
    try:
        row = X[2001]
        answer = predictor.predict({"instances": [{"data": {"features": {
            "shape": [X.shape[1]], "keys": row.indices.tolist(), "values": row.data.tolist()}}}]})
        assert abs(answer["predictions"][0]["score"] - y[2001]) < 1.5
    finally:
        predictor.delete_model()
        predictor.delete_endpoint()

    transformer = estimator.transformer(1, "ml.m5.large", accept="application/jsonlines",
                                        output_path=f"{prefix}/predictions")
    transformer.transform(f"{prefix}/test", content_type="application/x-recordio-protobuf")  # whole file, one request
    lines = sagemaker.s3.S3Downloader.read_file(f"{prefix}/predictions/part-0.out", session).splitlines()
    scores = np.array([json.loads(line)["score"] for line in lines])
    assert len(scores) == 400 and np.sqrt(np.mean((scores - y[2000:]) ** 2)) < 0.5 * y.std()
    session.delete_model(transformer.model_name)
