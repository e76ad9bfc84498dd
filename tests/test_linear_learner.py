"""linear-learner's offline engine alone: no server, no S3 (STYLE.md: algorithms are
testable as plain functions). Each test checks the model beats a trivial baseline."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from localaws.sagemaker.algorithms import for_image, linear_learner as ll
from localaws.sagemaker.algorithms.base import Channel, ClientError, parse_hyperparameters

from .helpers import LINEAR_LEARNER, csv_bytes, regression_data


def channel(tmp_path: Path, name: str, data: bytes, content_type: str = "text/csv") -> Channel:
    folder = tmp_path / name
    folder.mkdir(parents=True)
    (folder / "part-0").write_bytes(data)
    return Channel(name, folder, content_type)


def fit(tmp_path, hyperparameters: dict, **channels: tuple[bytes, str]):
    hp = parse_hyperparameters(ll.HYPERPARAMETERS, hyperparameters)
    chans = {n: channel(tmp_path, n, *c) for n, c in channels.items()}
    metrics = ll.train(chans, hp, tmp_path / "model", lambda line: None)
    return ll.load(tmp_path / "model"), metrics


def classification_data(n=400, classes=2, seed=1):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3, size=(classes, 5))
    y = rng.integers(0, classes, size=n)
    return centres[y] + rng.normal(size=(n, 5)), y.astype(float)


def test_the_image_uri_selects_the_algorithm():
    assert for_image(LINEAR_LEARNER) is ll
    with pytest.raises(ClientError, match="cannot run image"):
        for_image("1.dkr.ecr.us-east-1.amazonaws.com/not-an-algorithm:1")


def test_regressor_learns_a_linear_function(tmp_path):
    X, y = regression_data(seed=2)
    model, metrics = fit(tmp_path, {"predictor_type": "regressor", "feature_dim": "4"},
                         train=(csv_bytes(np.column_stack([y[:250], X[:250]])), "text/csv"),
                         test=(csv_bytes(np.column_stack([y[250:], X[250:]])), "text/csv"))
    assert metrics["test:mse"] < 0.05 * np.var(y[250:])
    body, content_type = model.predict(csv_bytes(X[250:]), "text/csv", None)
    scores = np.array([p["score"] for p in json.loads(body)["predictions"]])
    assert content_type == "application/json" and np.corrcoef(scores, y[250:])[0, 1] > 0.99


def test_binary_classifier_beats_the_majority_class(tmp_path):
    X, y = classification_data()
    model, metrics = fit(tmp_path, {"predictor_type": "binary_classifier"},
                         train=(csv_bytes(np.column_stack([y[:300], X[:300]])), "text/csv"),
                         validation=(csv_bytes(np.column_stack([y[300:], X[300:]])), "text/csv"))
    majority = max(y[300:].mean(), 1 - y[300:].mean())
    assert metrics["validation:binary_classification_accuracy"] > majority + 0.2
    assert metrics["validation:roc_auc_score"] > 0.9
    prediction = json.loads(model.predict(csv_bytes(X[:1]), "text/csv", None)[0])["predictions"][0]
    assert set(prediction) == {"score", "predicted_label"} and 0 <= prediction["score"] <= 1


def test_multiclass_classifier_needs_num_classes_and_then_learns(tmp_path):
    X, y = classification_data(classes=3)
    data = (csv_bytes(np.column_stack([y, X])), "text/csv")
    with pytest.raises(ClientError, match="num_classes"):
        fit(tmp_path / "a", {"predictor_type": "multiclass_classifier"}, train=data)
    model, metrics = fit(tmp_path / "b", {"predictor_type": "multiclass_classifier", "num_classes": "3"},
                         train=data, test=data)
    assert metrics["test:multiclass_accuracy"] > 0.8


def test_recordio_protobuf_dense_and_sparse(tmp_path):
    from sagemaker.amazon.common import write_numpy_to_dense_tensor, write_spmatrix_to_sparse_tensor

    X, y = regression_data(seed=3)
    dense = io.BytesIO()
    write_numpy_to_dense_tensor(dense, X.astype("float32"), y.astype("float32"))
    model, metrics = fit(tmp_path / "dense", {"predictor_type": "regressor", "feature_dim": "4"},
                         train=(dense.getvalue(), "application/x-recordio-protobuf"),
                         test=(dense.getvalue(), "application/x-recordio-protobuf"))
    assert metrics["test:mse"] < 0.05 * np.var(y)

    sparse_buf = io.BytesIO()
    write_spmatrix_to_sparse_tensor(sparse_buf, sparse.csr_matrix(X), y)
    _, metrics = fit(tmp_path / "sparse", {"predictor_type": "regressor"},
                     train=(sparse_buf.getvalue(), "application/x-recordio-protobuf"),
                     test=(sparse_buf.getvalue(), "application/x-recordio-protobuf"))
    assert metrics["test:mse"] < 0.05 * np.var(y)

    request = io.BytesIO()
    write_numpy_to_dense_tensor(request, X[:3].astype("float32"))
    body, content_type = model.predict(request.getvalue(), "application/x-recordio-protobuf",
                                       "application/x-recordio-protobuf")
    from sagemaker.amazon.common import read_records

    records = read_records(io.BytesIO(body))
    assert content_type == "application/x-recordio-protobuf" and len(records) == 3
    assert abs(records[0].label["score"].float32_tensor.values[0] - y[0]) < 1.5


def test_sparse_json_requests(tmp_path):
    X, y = regression_data(seed=4)
    model, _ = fit(tmp_path, {"predictor_type": "regressor"},
                   train=(csv_bytes(np.column_stack([y, X])), "text/csv"))
    row = X[0].copy()
    row[1] = 0.0  # a zero is left out of a sparse record, and keys need not be in order
    dense = json.loads(model.predict(json.dumps({"instances": [{"features": list(row)}]}).encode(),
                                     "application/json", None)[0])
    keys = [3, 0, 2]
    sparse_request = {"instances": [{"data": {"features": {
        "shape": [4], "keys": keys, "values": [row[i] for i in keys]}}}]}
    answer = json.loads(model.predict(json.dumps(sparse_request).encode(), "application/json", None)[0])
    assert answer == dense
    in_order = json.loads(model.predict(json.dumps({"instances": [{"features": [row[i] for i in keys] + [0.0]}]}).encode(),
                                        "application/json", None)[0])
    assert in_order != dense, "the test would pass a decoder that ignored the keys"



# Worded as Amazon's first-party algorithms word them (see base.FirstPartyWording for the sources).
@pytest.mark.parametrize("hyperparameters, message", [
    ({}, "No value(s) were specified for 'predictor_type' which are required hyperparameter(s)"
         " (caused by ValidationError)"),
    ({"predictor_type": "regresor"}, "The value 'regresor' is not valid for the 'predictor_type' hyperparameter"
                                     " which accepts one of the following: 'binary_classifier',"
                                     " 'multiclass_classifier', 'regressor' (caused by ValidationError)"),
    ({"predictor_type": "regressor", "epochs": "many"},
     "The value 'many' is not valid for the 'epochs' hyperparameter which expects an integer greater than 1"
     " (caused by ValidationError)"),
    ({"predictor_type": "regressor", "epochs": "2.5"}, "'epochs' hyperparameter which expects an integer"),
    ({"predictor_type": "regressor", "wd": "nan"},
     "The value 'nan' is not valid for the 'wd' hyperparameter which expects one of the following: 'auto'; or"
     " a number greater than 0 (caused by ValidationError)"),
    ({"predictor_type": "regressor", "target_recall": "1.5"}, "expects a number between 0 and 1"),
    ({"predictor_type": "regressor", "learning_rat": "0.1"},
     "Additional hyperparameters are not allowed ('learning_rat' was unexpected) (caused by ValidationError);"
     " did you mean 'learning_rate'?"),
])
def test_bad_hyperparameters_say_what_is_wrong(hyperparameters, message):
    with pytest.raises(ClientError) as refused:
        parse_hyperparameters(ll.HYPERPARAMETERS, hyperparameters)
    assert message in str(refused.value)


def test_python_booleans_as_the_sdk_sends_them_are_accepted():
    """SDK v2 sends str(True) == "True" for boolean arguments such as normalize_data (issue 18)."""
    hp = parse_hyperparameters(ll.HYPERPARAMETERS, {"predictor_type": "regressor", "normalize_data": "True",
                                                    "use_bias": "False"})
    assert hp["normalize_data"] == "true" and hp["use_bias"] is False


def test_bad_training_data_says_what_is_wrong(tmp_path):
    with pytest.raises(ClientError, match="headerless numeric CSV"):
        fit(tmp_path, {"predictor_type": "regressor"}, train=(b"medv,crim\n1,2\n", "text/csv"))
    with pytest.raises(ClientError, match="feature_dim"):
        fit(tmp_path / "b", {"predictor_type": "regressor", "feature_dim": "7"}, train=(b"1,2,3\n4,5,6\n", "text/csv"))
    with pytest.raises(ClientError, match="must be 0 or 1"):
        fit(tmp_path / "c", {"predictor_type": "binary_classifier"}, train=(b"2,1\n0,3\n", "text/csv"))
