"""SageMaker XGBoost offline: the algorithm alone, then through the real SDK."""
from __future__ import annotations

import io
import json
import math
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest
import sagemaker
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.exceptions import UnexpectedStatusException
from sagemaker.inputs import TrainingInput
from sagemaker.serializers import CSVSerializer

from localaws.sagemaker.algorithms import for_image, xgboost as xgb_algo
from localaws.sagemaker.algorithms.base import Channel, ClientError, parse_hyperparameters

from .helpers import client, csv_bytes, unique

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def clicks(n=1200, seed=0):
    """Binary data whose label depends on the features (an interaction the trees can find)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    logit = 1.5 * X[:, 0] - X[:, 1] + 1.2 * X[:, 2] * X[:, 3]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    return X, y


def channel(tmp_path, name, data: bytes, content_type="text/csv") -> Channel:
    folder = tmp_path / name
    folder.mkdir(parents=True)
    (folder / "part-0").write_bytes(data)
    return Channel(name, folder, content_type)


def hp(**given):
    raw = {k: str(v) for k, v in given.items()}
    return parse_hyperparameters(xgb_algo.HYPERPARAMETERS, raw, xgb_algo.ALIASES, xgb_algo.HINTS, xgb_algo.WORDING)


def test_both_image_repositories_select_xgboost():
    assert for_image(IMAGE) is xgb_algo
    assert for_image("811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1") is xgb_algo


def test_binary_classifier_learns_and_reports_validation_auc(tmp_path):
    from sklearn.metrics import roc_auc_score

    X, y = clicks()
    lines = []
    metrics = xgb_algo.train(
        {"train": channel(tmp_path, "train", csv_bytes(np.column_stack([y[:900], X[:900]]))),
         "validation": channel(tmp_path, "validation", csv_bytes(np.column_stack([y[900:], X[900:]])))},
        hp(objective="binary:logistic", num_round=40, max_depth=4, eta=0.2, _tuning_objective_metric="validation:auc"),
        tmp_path / "model", lines.append)
    assert metrics["validation:auc"] > 0.75 and set(metrics) == {"train:auc", "validation:auc"}
    assert lines[-1].startswith("[39]") and "validation-auc" in lines[-1]
    import xgboost

    booster = xgboost.Booster()
    booster.load_model(str(tmp_path / "model" / "xgboost-model"))  # as the book loads it
    scores = booster.predict(xgboost.DMatrix(X[900:]))
    assert roc_auc_score(y[900:], scores) == pytest.approx(metrics["validation:auc"], abs=1e-4)


def test_regression_with_libsvm_input(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3))
    y = 2 * X[:, 0] - X[:, 2] + rng.normal(scale=0.1, size=400)
    text = "\n".join(f"{t} " + " ".join(f"{j}:{v:.5f}" for j, v in enumerate(row)) for t, row in zip(y, X))
    metrics = xgb_algo.train({"train": channel(tmp_path, "train", text.encode(), "text/libsvm")},
                             hp(num_round=60, eta=0.3), tmp_path / "model", lambda _: None)
    assert metrics["train:rmse"] < 0.3 * np.std(y)
    endpoint = xgb_algo.load(tmp_path / "model", {})
    # the container reads index:value tokens and ignores the rest (serve_utils._get_sparse_matrix_from_libsvm):
    # a request with the label, as xgboost_abalone.ipynb sends its test file, or without it
    labelled = "\n".join(text.splitlines()[:3]).encode()
    unlabelled = b"\n".join(line.split(b" ", 1)[1] for line in labelled.splitlines())
    for body in (labelled, unlabelled):
        scores = [float(s) for s in endpoint.predict(body, "text/x-libsvm", None)[0].decode().split(",")]
        assert np.abs(np.array(scores) - y[:3]).max() < 0.5
    with pytest.raises(ClientError, match="feature index 3 is beyond the 3 features"):
        endpoint.predict(b"0:1 3:2", "text/libsvm", None)


def test_endpoint_answers_commas_and_batch_answers_lines(tmp_path):
    X, y = clicks(300)
    xgb_algo.train({"train": channel(tmp_path, "train", csv_bytes(np.column_stack([y, X])))},
                   hp(objective="binary:logistic", num_round=5), tmp_path / "model", lambda _: None)
    endpoint = xgb_algo.load(tmp_path / "model", {})
    body, content_type = endpoint.predict(csv_bytes(X[:3]), "text/csv", None)
    assert content_type == "text/csv" and len(body.decode().split(",")) == 3
    batch = xgb_algo.load(tmp_path / "model", {"SAGEMAKER_BATCH": "true"})
    assert batch.predict(csv_bytes(X[:3]), "text/csv", None)[0].decode().count("\n") == 3
    with pytest.raises(ClientError, match="not consistent with feature size"):
        endpoint.predict(csv_bytes(np.column_stack([y[:3], X[:3]])), "text/csv", None)  # label sent too


def test_selectable_inference_output(tmp_path):
    X, y = clicks(300)
    xgb_algo.train({"train": channel(tmp_path, "train", csv_bytes(np.column_stack([y, X])))},
                   hp(objective="binary:logistic", num_round=5), tmp_path / "model", lambda _: None)
    model = xgb_algo.load(tmp_path / "model", {"SAGEMAKER_INFERENCE_OUTPUT": "predicted_label,probability"})
    answer = json.loads(model.predict(csv_bytes(X[:2]), "text/csv", "application/json")[0])
    first = answer["predictions"][0]
    assert set(first) == {"predicted_label", "probability"}
    assert first["predicted_label"] == int(first["probability"] > 0.5)


def test_selectable_output_follows_the_container(tmp_path):
    """sagemaker-xgboost-container algorithm_mode/serve.py and serve_utils.py: a 406 for an
    Accept outside its four types, NaN for a key the objective cannot give, quoted lists in CSV."""
    X, y = clicks(300)
    xgb_algo.train({"train": channel(tmp_path, "train", csv_bytes(np.column_stack([y, X])))},
                   hp(objective="binary:logistic", num_round=5), tmp_path / "model", lambda _: None)
    keys = "predicted_label,probabilities,predicted_score"
    model = xgb_algo.load(tmp_path / "model", {"SAGEMAKER_INFERENCE_OUTPUT": keys})
    with pytest.raises(ClientError, match="Accept type text/plain is not supported") as refused:
        model.predict(csv_bytes(X[:2]), "text/csv", "text/plain")
    assert refused.value.status == 406
    body, kind = model.predict(csv_bytes(X[:2]), "text/csv", "application/json")
    assert kind == "application/json" and b"NaN" in body  # predicted_score is not a classifier's key
    first = json.loads(body)["predictions"][0]
    assert math.isnan(first["predicted_score"]) and first["probabilities"][1] == pytest.approx(1 - first["probabilities"][0])
    line = model.predict(csv_bytes(X[:1]), "text/csv", "text/csv")[0].decode()
    assert line.startswith(f'{first["predicted_label"]},"[') and line.endswith(',nan')
    plain = xgb_algo.load(tmp_path / "model", {})
    score, kind = plain.predict(csv_bytes(X[:1]), "text/csv", "application/json")
    assert kind == "text/csv"  # Accept ignored
    assert first["probabilities"][1] == pytest.approx(float(score)) and first["predicted_label"] == int(float(score) > 0.5)
    with pytest.raises(ClientError) as unsupported:
        plain.predict(b"{}", "application/json", None)
    assert unsupported.value.status == 415


def test_a_pickled_booster_is_hosted_and_a_pickle_of_anything_else_is_refused(tmp_path):
    """The 0.90/1.x containers pickled the Booster and load pickles first (sagemaker-xgboost-container
    serve_utils.get_loaded_booster); localaws unpickles only a Booster, so an archive cannot run code."""
    import pickle

    import xgboost as xgb

    X, y = clicks(200)
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, label=y), 3)
    (tmp_path / "pickled").mkdir()
    (tmp_path / "pickled" / "xgboost-model").write_bytes(pickle.dumps(booster, protocol=3))
    hosted = xgb_algo.load(tmp_path / "pickled", {})
    answer = hosted.predict(csv_bytes(X[:3]), "text/csv", None)[0].decode().split(",")
    assert np.allclose([float(v) for v in answer], booster.predict(xgb.DMatrix(X[:3])), atol=1e-6)

    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (tmp_path / "evil").mkdir()
    (tmp_path / "evil" / "xgboost-model").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ClientError, match="loads only pickled xgboost Boosters"):
        xgb_algo.load(tmp_path / "evil", {})
    assert not marker.exists()


LEGACY = Path(__file__).parent / "fixtures" / "xgboost_models"  # made by the old xgboost itself (make.py there)


@pytest.mark.parametrize("version, suffix, image_tag", [("0.90", "pkl", "0.90-2"), ("0.90", "model", "0.90-2"),
                                                        ("1.0", "pkl", "1.0-1"), ("1.0", "model", "1.0-1")])
def test_models_written_by_the_old_containers_xgboost_are_hosted_with_its_predictions(tmp_path, version, suffix,
                                                                                      image_tag):
    """Issue 18: a pickled 0.90 Booster was refused ("Invalid model format"); its pickle (protocol 2)
    and binary save_model files, made by xgboost 0.90 and 1.0.2 themselves, now give the same
    predictions those versions gave."""
    recorded = json.loads((LEGACY / f"predictions-{version}.json").read_text())
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "xgboost-model").write_bytes((LEGACY / f"xgboost-{version}.{suffix}").read_bytes())
    hosted = xgb_algo.load(tmp_path / "model", {}, image=f"123.dkr.ecr.us-east-1.amazonaws.com/xgboost:{image_tag}")
    body = "".join(",".join(map(str, row)) + "\n" for row in recorded["rows"]).encode()
    answer, kind = hosted.predict(body, "text/csv", None)
    assert kind == "text/csv" and "," in answer.decode()  # before 1.2-2, scores joined by commas
    assert np.allclose([float(v) for v in answer.decode().split(",")], recorded["predictions"], atol=1e-6)


def test_the_books_silent_hyperparameter_is_refused_with_a_hint():
    with pytest.raises(ClientError, match="verbosity"):
        hp(objective="binary:logistic", num_round=5, silent=0)
    assert hp(num_round=5, learning_rate=0.1)["eta"] == 0.1  # aliases as in the container


# Worded as the container's sagemaker-algorithm-toolkit words them (hyperparameter_validation.py).
@pytest.mark.parametrize("raw, message", [
    ({"objective": "binary:logistic"}, "Missing required hyperparameter: num_round"),
    ({"num_round": "5", "colsample": "0.5"}, "Extraneous hyperparameter found: colsample; did you mean"),
    ({"num_round": "5", "eta": "2"}, "Hyperparameter eta: 2.0 is not in [0, 1]"),
    ({"num_round": "5", "max_depth": "-1"}, "Hyperparameter max_depth: -1 is not in [0, +inf)"),
    ({"num_round": "5.0"}, "Hyperparameter num_round: could not parse value"),  # int("5.0") fails there too
    ({"num_round": "5", "eta": "inf"}, "Hyperparameter eta: inf is not in [0, 1]"),
    ({"num_round": "5", "sagemaker_submit_directory": '"s3://b/k/sourcedir.tar.gz"'},
     "Extraneous hyperparameter found: sagemaker_submit_directory; script mode needs sagemaker_program"),
])
def test_bad_hyperparameters_are_worded_as_the_container_words_them(raw, message):
    with pytest.raises(ClientError) as refused:
        hp(**raw)
    assert str(refused.value).startswith(message)


def test_a_nan_hyperparameter_reaches_xgboost_as_in_the_container():
    """The toolkit's interval test is made of comparisons, all false for NaN: it passes."""
    assert math.isnan(hp(num_round=5, gamma="nan")["gamma"])


def test_multiclass_needs_num_class(tmp_path):
    X, y = clicks(200)
    with pytest.raises(ClientError, match="num_class"):
        xgb_algo.train({"train": channel(tmp_path, "train", csv_bytes(np.column_stack([y, X])))},
                       hp(objective="multi:softprob", num_round=2), tmp_path / "model", lambda _: None)


# ---------------------------------------------------------------- through the SDK
@pytest.fixture(scope="module")
def session():
    return sagemaker.Session()


def upload(session, name, body: bytes) -> str:
    prefix = unique("xgb")
    client("s3").put_object(Bucket=session.default_bucket(), Key=f"{prefix}/{name}", Body=body)
    return f"s3://{session.default_bucket()}/{prefix}"


def test_fit_transform_deploy_with_the_sdk(session):
    X, y = clicks()
    train = upload(session, "train.csv", csv_bytes(np.column_stack([y[:900], X[:900]])))
    validation = upload(session, "validation.csv", csv_bytes(np.column_stack([y[900:], X[900:]])))
    features = upload(session, "features.csv", csv_bytes(X[900:]))
    estimator = Estimator(image_uris.retrieve("xgboost", session.boto_region_name, version="1.7-1"),
                          os.environ["SAGEMAKER_ROLE_ARN"], instance_count=1, instance_type="ml.m5.large",
                          sagemaker_session=session, output_path=f"s3://{session.default_bucket()}/{unique('out')}")
    estimator.set_hyperparameters(objective="binary:logistic", num_round=30, max_depth=4, eta=0.2,
                                  eval_metric="auc")
    estimator.fit({"train": TrainingInput(train, content_type="text/csv"),
                   "validation": TrainingInput(validation, content_type="text/csv")})
    job = session.describe_training_job(estimator.latest_training_job.name)
    final = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert final["validation:auc"] > 0.75

    bucket, key = estimator.model_data[5:].split("/", 1)
    with tarfile.open(fileobj=io.BytesIO(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())) as tar:
        assert tar.getnames() == ["xgboost-model"]

    transformer = estimator.transformer(1, "ml.m5.large",
                                        output_path=f"s3://{session.default_bucket()}/{unique('pred')}")
    transformer.transform(features, content_type="text/csv", split_type="Line")
    scores = sagemaker.s3.S3Downloader.read_file(f"{transformer.output_path}/features.csv.out", session)
    assert len(scores.split()) == 300

    predictor = estimator.deploy(1, "ml.m5.large", serializer=CSVSerializer())
    answer = predictor.predict(X[:4]).decode()  # the 1.7-1 container: a score per line
    assert answer.endswith("\n") and len(answer.splitlines()) == 4
    predictor.delete_model()
    predictor.delete_endpoint()
    session.delete_model(transformer.model_name)


def test_a_bad_objective_fails_the_job_like_aws(session):
    X, y = clicks(100)
    train = upload(session, "train.csv", csv_bytes(np.column_stack([y, X])))
    estimator = Estimator(IMAGE, os.environ["SAGEMAKER_ROLE_ARN"], instance_count=1,
                          instance_type="ml.m5.large", sagemaker_session=session)
    estimator.set_hyperparameters(objective="reg:squarederror", num_round=3, eval_metric="auc")
    with pytest.raises(UnexpectedStatusException, match="auc"):
        estimator.fit({"train": TrainingInput(train, content_type="text/csv")})


def test_transform_joins_labels_to_predictions(session):
    """input_filter drops the label, join_source + output_filter keep label and score: what
    chapter 4 needs to compute AUC from a batch transform."""
    X, y = clicks(400)
    labelled = upload(session, "labelled.csv", csv_bytes(np.column_stack([y, X])))
    estimator = Estimator(IMAGE, os.environ["SAGEMAKER_ROLE_ARN"], instance_count=1,
                          instance_type="ml.m5.large", sagemaker_session=session)
    estimator.set_hyperparameters(objective="binary:logistic", num_round=10)
    estimator.fit({"train": TrainingInput(labelled, content_type="text/csv")})
    transformer = estimator.transformer(1, "ml.m5.large", assemble_with="Line", accept="text/csv",
                                        output_path=f"s3://{session.default_bucket()}/{unique('joined')}")
    transformer.transform(labelled, content_type="text/csv", split_type="Line",
                          input_filter="$[1:]", join_source="Input", output_filter="$[0,-1]")
    out = sagemaker.s3.S3Downloader.read_file(f"{transformer.output_path}/labelled.csv.out", session)
    rows = [line.split(",") for line in out.splitlines()]
    assert len(rows) == 400 and all(len(r) == 2 for r in rows)
    assert [float(r[0]) for r in rows] == list(y)
    assert all(0 < float(r[1]) < 1 for r in rows)
    session.delete_model(transformer.model_name)


def test_jsonpath_subset():
    from localaws.sagemaker.dataprocessing import select

    row = ["1", "a", "b", "c"]
    assert select("$[1:]", row) == ["a", "b", "c"] and select("$[0,-1]", row) == ["1", "c"]
    assert select("$.features", {"features": [1, 2]}) == [1, 2]
    assert select("$['id','SageMakerOutput']", {"id": 3, "x": 1, "SageMakerOutput": 0.5}) == \
        {"id": 3, "SageMakerOutput": 0.5}
    with pytest.raises(ClientError):
        select("$..deep", row)
