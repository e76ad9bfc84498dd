"""The SageMaker Python SDK v2's documented flows for each built-in algorithm localaws emulates,
beyond those the algorithm's own tests already cover (test_linear_learner.py, test_kmeans.py,
test_factorization_machines.py, test_xgboost.py, test_blazingtext.py, test_image_classification.py,
test_tuning.py, test_sdk_flows.py), and what happens to the built-ins it does not emulate.

Sources: the SDK's docs (doc/algorithms/tabular/linear_learner.rst, factorization_machines.rst,
unsupervised/kmeans.rst: each first-party algorithm is an Estimator, a Model and a Predictor
class; doc/overview.rst "SageMaker Automatic Model Tuning": with a built-in algorithm "the fit()
call uses a list of RecordSet objects"), AWS's XGBoost guide ("Use XGBoost as a built-in
algorithm": Estimator(image_uri, hyperparameters=...), TrainingInput(content_type="libsvm")) and
the SDK's Transformer.transform (split_type "None", "Line", "RecordIO" or "TFRecord").
"""
from __future__ import annotations

import gzip
import io
import json
import tarfile

import numpy as np
import pytest
import sagemaker
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.exceptions import UnexpectedStatusException
from sagemaker.inputs import TrainingInput

from tests.helpers import client, sagemaker_role, unique

EMULATED = ("linear-learner", "xgboost", "kmeans", "factorization-machines", "blazingtext", "image-classification")
NOT_EMULATED = ("pca", "lda", "ntm", "randomcutforest", "knn", "object2vec", "ipinsights", "forecasting-deepar",
                "seq2seq", "object-detection", "semantic-segmentation")


@pytest.fixture(scope="module")
def session():
    return sagemaker.Session()


@pytest.fixture(scope="module")
def role():
    return sagemaker_role()


def separable(n=400, d=5, seed=0):
    """Features and a linear score: y is the score (regression), y > 0 the class."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype("float32")
    y = (X @ np.array([1.5, -2.0, 0.5, 1.0, 0.0][:d]) + 0.1 * rng.normal(size=n)).astype("float32")
    return X, y


def blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0], [6, 6, 0], [0, 6, 6]], dtype=float)
    labels = rng.integers(0, 3, n)
    return (centres[labels] + rng.normal(scale=0.5, size=(n, 3))).astype("float32"), labels


def records(predictions, key: str) -> np.ndarray:
    """A value from each Record the first-party predictors' RecordDeserializer returns."""
    return np.array([r.label[key].float32_tensor.values[0] for r in predictions])


# ---------------------------------------------------------------- first-party Estimator, Model, Predictor
def _linear_learner(role, session, X, y):
    from sagemaker import LinearLearner, LinearLearnerModel

    estimator = LinearLearner(role=role, instance_count=1, instance_type="ml.m5.large",
                              predictor_type="binary_classifier", sagemaker_session=session)
    estimator.fit(estimator.record_set(X[:300], (y[:300] > 0).astype("float32")), mini_batch_size=50, logs=False)
    return LinearLearnerModel(estimator.model_data, role, sagemaker_session=session)


def _factorization_machines(role, session, X, y):
    from sagemaker import FactorizationMachines, FactorizationMachinesModel

    estimator = FactorizationMachines(role=role, instance_count=1, instance_type="ml.m5.large", num_factors=2,
                                      predictor_type="binary_classifier", epochs=30, linear_lr=0.02,
                                      sagemaker_session=session)
    estimator.fit(estimator.record_set(X[:300], (y[:300] > 0).astype("float32")), mini_batch_size=50, logs=False)
    return FactorizationMachinesModel(estimator.model_data, role, sagemaker_session=session)


def _kmeans(role, session, X, _):
    from sagemaker import KMeans, KMeansModel

    estimator = KMeans(role=role, instance_count=2, instance_type="ml.c4.xlarge", k=3, sagemaker_session=session)
    estimator.fit(estimator.record_set(X[:200]), logs=False)
    return KMeansModel(estimator.model_data, role, sagemaker_session=session)


@pytest.mark.parametrize("algorithm", ["linear-learner", "factorization-machines", "kmeans"])
def test_a_first_party_model_class_serves_its_artifact_with_its_default_predictor(algorithm, session, role):
    """Estimator.record_set + fit, then the algorithm's Model class from the artifact alone
    (LinearLearnerModel(model_data, role)...), deployed: its Predictor sends and reads
    recordIO-protobuf Records (RecordSerializer / RecordDeserializer, the SDK's defaults)."""
    if algorithm == "kmeans":
        X, labels = blobs()
        model = _kmeans(role, session, X, None)
    else:
        X, y = separable()
        model = {"linear-learner": _linear_learner, "factorization-machines": _factorization_machines}[algorithm](
            role, session, X, y)
    predictor = model.deploy(1, "ml.m5.large")
    try:
        assert type(predictor).__name__ == type(model).__name__.replace("Model", "Predictor")
        answers = predictor.predict(X[300:])
        assert len(answers) == len(X) - 300
        if algorithm == "kmeans":
            clusters = records(answers, "closest_cluster")
            assert (records(answers, "distance_to_cluster") >= 0).all()
            same_blob = labels[300:, None] == labels[None, 300:]
            assert ((clusters[:, None] == clusters[None, :]) == same_blob).all()  # the clusters are the blobs
        else:
            labels_, scores = records(answers, "predicted_label"), records(answers, "score")
            assert set(np.unique(labels_)) <= {0.0, 1.0} and ((scores >= 0) & (scores <= 1)).all()
            # one threshold (linear-learner picks its own, binary_classifier_model_selection_criteria)
            assert labels_.any() and not labels_.all() and scores[labels_ == 1].min() >= scores[labels_ == 0].max()
            assert np.mean(labels_ == (y[300:] > 0)) > 0.85
    finally:
        predictor.delete_model()
        predictor.delete_endpoint()


def test_a_tuner_over_a_first_party_estimator_takes_record_sets_and_deploys_the_best(session, role):
    from sagemaker import LinearLearner
    from sagemaker.tuner import ContinuousParameter, HyperparameterTuner

    X, y = separable(seed=1)
    estimator = LinearLearner(role=role, instance_count=1, instance_type="ml.m5.large",
                              predictor_type="regressor", sagemaker_session=session)
    train = estimator.record_set(X[:300], y[:300])
    test = estimator.record_set(X[300:], y[300:], channel="test")
    tuner = HyperparameterTuner(estimator, "test:mse", {"wd": ContinuousParameter(1e-6, 0.1),
                                                        "learning_rate": ContinuousParameter(0.01, 0.2)},
                                objective_type="Minimize", max_jobs=3, max_parallel_jobs=3)
    tuner.fit([train, test], mini_batch_size=50, job_name=unique("ll-rs"))
    frame = tuner.analytics().dataframe()
    assert len(frame) == 3 and frame["FinalObjectiveValue"].notna().all()
    assert frame["FinalObjectiveValue"].min() < 0.1 * y.var()
    best = session.describe_training_job(tuner.best_training_job())
    assert best["HyperParameters"]["mini_batch_size"] == "50" and best["HyperParameters"]["feature_dim"] == "5"
    predictor = tuner.deploy(1, "ml.m5.large")
    try:
        scores = records(predictor.predict(X[300:320]), "score")
        assert np.abs(scores - y[300:320]).max() < 1.0
    finally:
        predictor.delete_model()
        predictor.delete_endpoint()


# ---------------------------------------------------------------- XGBoost as a built-in algorithm
def libsvm(X, y) -> str:
    return "".join(f"{t:.4f} " + " ".join(f"{j}:{v:.4f}" for j, v in enumerate(row, 1)) + "\n" for t, row in zip(y, X))


def test_xgboost_as_a_built_in_algorithm_with_libsvm_data(session, role):
    """AWS's XGBoost guide: hyperparameters given to the Estimator, libsvm channels, then an
    endpoint read with the SDK's LibSVMSerializer and batch transform over a libsvm file. The
    container ignores a request line's label (serve_utils._get_sparse_matrix_from_libsvm), so
    lines with and without one predict the same."""
    from sagemaker.deserializers import CSVDeserializer
    from sagemaker.serializers import LibSVMSerializer

    X, y = separable(seed=2)
    bucket, prefix = session.default_bucket(), unique("xgb-libsvm")
    s3 = client("s3")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/abalone.train", Body=libsvm(X[:300], y[:300]).encode())
    s3.put_object(Bucket=bucket, Key=f"{prefix}/validation/abalone.validation", Body=libsvm(X[300:], y[300:]).encode())
    hyperparameters = {"max_depth": "5", "eta": "0.2", "gamma": "4", "min_child_weight": "6", "subsample": "0.7",
                       "objective": "reg:squarederror", "num_round": "50"}
    estimator = Estimator(image_uri=image_uris.retrieve("xgboost", session.boto_region_name, "1.7-1"),
                          hyperparameters=hyperparameters, role=role, instance_count=1,
                          instance_type="ml.m5.2xlarge", volume_size=5, sagemaker_session=session,
                          output_path=f"s3://{bucket}/{prefix}/output")
    estimator.fit({name: TrainingInput(f"s3://{bucket}/{prefix}/{name}/", content_type="libsvm")
                   for name in ("train", "validation")}, logs=False)
    final = {m["MetricName"]: m["Value"] for m in
             session.describe_training_job(estimator.latest_training_job.name)["FinalMetricDataList"]}
    assert final["validation:rmse"] < 0.5 * y.std()

    predictor = estimator.deploy(1, "ml.m5.large", serializer=LibSVMSerializer(), deserializer=CSVDeserializer())
    try:
        lines = libsvm(X[300:305], y[300:305]).splitlines()
        with_label = np.array(predictor.predict("\n".join(lines)), dtype=float).ravel()
        without = np.array(predictor.predict("\n".join(line.split(" ", 1)[1] for line in lines)), dtype=float).ravel()
        assert with_label == pytest.approx(without) and np.abs(with_label - y[300:305]).max() < 1.5
    finally:
        predictor.delete_model()
        predictor.delete_endpoint()

    s3.put_object(Bucket=bucket, Key=f"{prefix}/batch/rows.libsvm", Body=libsvm(X[300:], y[300:]).encode())
    transformer = estimator.transformer(1, "ml.m5.large", output_path=f"s3://{bucket}/{prefix}/scores")
    transformer.transform(f"s3://{bucket}/{prefix}/batch", content_type="text/libsvm", split_type="Line", logs=False)
    scores = sagemaker.s3.S3Downloader.read_file(f"{transformer.output_path}/rows.libsvm.out", session).split()
    session.delete_model(transformer.model_name)
    assert len(scores) == 100 and np.sqrt(np.mean((np.array(scores, dtype=float) - y[300:]) ** 2)) < 0.5 * y.std()


@pytest.fixture(scope="module")
def xgboost_endpoint(session, role):
    """An xgboost 1.7-1 endpoint (binary:logistic on three features), deleted afterwards."""
    X, y = separable(n=300, d=3, seed=3)
    bucket, prefix = session.default_bucket(), unique("xgb-csv")
    rows = np.column_stack([(y > 0).astype(int), X])
    client("s3").put_object(Bucket=bucket, Key=f"{prefix}/train/data.csv",
                            Body="".join(",".join(f"{v:g}" for v in row) + "\n" for row in rows).encode())
    estimator = Estimator(image_uris.retrieve("xgboost", session.boto_region_name, "1.7-1"), role, instance_count=1,
                          instance_type="ml.m5.large", sagemaker_session=session,
                          hyperparameters={"objective": "binary:logistic", "num_round": "10"},
                          output_path=f"s3://{bucket}/{prefix}/output")
    estimator.fit({"train": TrainingInput(f"s3://{bucket}/{prefix}/train/", content_type="text/csv")}, logs=False)
    predictor = estimator.deploy(1, "ml.m5.large")
    yield predictor.endpoint_name, X
    predictor.delete_model()
    predictor.delete_endpoint()


def test_an_xgboost_1_7_endpoint_answers_as_its_container_does(xgboost_endpoint):
    """Containers 1.2-2 and later answer one score per line and {'predictions': [{'score': s}]}
    for JSON (sagemaker-xgboost-container algorithm_mode/serve.py invocations()): what
    xgboost_abalone.ipynb's batch_predict (split on newlines) and xgboost_customer_churn.ipynb's
    predict (`predictions.split("\\n")[:-1]`) rely on. (The endpoint once joined them with commas.)"""
    name, X = xgboost_endpoint
    runtime = client("sagemaker-runtime")
    body = "".join(",".join(f"{v:g}" for v in row) + "\n" for row in X[:3]).encode()
    answer = runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=body)["Body"].read().decode()
    lines = answer.split("\n")
    assert lines[-1] == "" and len(lines) == 4 and all(0 < float(s) < 1 for s in lines[:-1])
    as_json = runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Accept="application/json", Body=body)
    scores = [p["score"] for p in json.loads(as_json["Body"].read())["predictions"]]
    assert scores == pytest.approx([float(s) for s in lines[:-1]])


def test_batch_transform_splits_recordio_protobuf_into_records(session, role):
    """CreateTransformJob's SplitType RecordIO (the SDK's transform(split_type='RecordIO')),
    once refused offline as 'not emulated'."""
    from sagemaker import LinearLearner
    from sagemaker.amazon.common import write_numpy_to_dense_tensor

    X, y = separable(seed=4)
    estimator = LinearLearner(role=role, instance_count=1, instance_type="ml.m5.large", predictor_type="regressor",
                              sagemaker_session=session)
    estimator.fit(estimator.record_set(X[:300], y[:300]), mini_batch_size=50, logs=False)
    bucket, prefix = session.default_bucket(), unique("rio-transform")
    buffer = io.BytesIO()
    write_numpy_to_dense_tensor(buffer, X[300:])
    client("s3").put_object(Bucket=bucket, Key=f"{prefix}/in/rows.pbr", Body=buffer.getvalue())
    transformer = estimator.transformer(1, "ml.m5.large", accept="application/jsonlines", assemble_with="Line",
                                        strategy="MultiRecord", output_path=f"s3://{bucket}/{prefix}/out")
    try:
        transformer.transform(f"s3://{bucket}/{prefix}/in", content_type="application/x-recordio-protobuf",
                              split_type="RecordIO", logs=False)
    finally:
        session.delete_model(transformer.model_name)
    lines = sagemaker.s3.S3Downloader.read_file(f"s3://{bucket}/{prefix}/out/rows.pbr.out", session).splitlines()
    scores = np.array([json.loads(line)["score"] for line in lines])
    assert len(scores) == 100 and np.abs(scores - y[300:]).max() < 1.0


# ---------------------------------------------------------------- built-ins localaws does not emulate
def _names_what_is_emulated(message: str, image: str) -> None:
    assert f"localaws cannot run image '{image}'" in message, message
    assert all(name in message for name in EMULATED), message


@pytest.mark.parametrize("algorithm", NOT_EMULATED)
def test_an_unsupported_built_in_fails_its_training_job_at_once_naming_what_localaws_emulates(algorithm, session):
    """AWS accepts the job (the algorithm exists); localaws cannot compute it, so the job is
    Failed by the time CreateTrainingJob returns, with a FailureReason that says so."""
    image = image_uris.retrieve(algorithm, session.boto_region_name)
    sm = client("sagemaker")
    name = unique(algorithm[:20])
    sm.create_training_job(
        TrainingJobName=name, RoleArn=sagemaker_role(),
        AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
        InputDataConfig=[{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{session.default_bucket()}/nothing/"}}}],
        OutputDataConfig={"S3OutputPath": f"s3://{session.default_bucket()}/out"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 600})
    job = sm.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Failed"
    _names_what_is_emulated(job["FailureReason"], image)


def test_the_sdks_estimator_for_an_unsupported_built_in_raises_from_fit(session, role):
    from sagemaker import PCA

    pca = PCA(role=role, instance_count=1, instance_type="ml.m5.large", num_components=2, sagemaker_session=session)
    with pytest.raises(UnexpectedStatusException) as failed:
        pca.fit(pca.record_set(separable()[0]), logs=False)
    _names_what_is_emulated(str(failed.value), image_uris.retrieve("pca", session.boto_region_name))


def test_a_model_of_an_unsupported_built_in_fails_its_endpoint_and_its_transform_job(session, role):
    """CreateModel takes any image, as on AWS; the endpoint then fails (EndpointStatus Failed,
    as when a container does not start) and so does a transform job, both saying why."""
    image = image_uris.retrieve("randomcutforest", session.boto_region_name)
    bucket, prefix = session.default_bucket(), unique("rcf")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo("model_algo-1")
        data = gzip.compress(b"not a model")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    client("s3").put_object(Bucket=bucket, Key=f"{prefix}/model.tar.gz", Body=archive.getvalue())
    model = sagemaker.model.Model(image, f"s3://{bucket}/{prefix}/model.tar.gz", role=role, name=unique("rcf-model"),
                                  sagemaker_session=session)
    endpoint = unique("rcf-endpoint")
    sm = client("sagemaker")
    try:
        with pytest.raises(UnexpectedStatusException) as failed:
            model.deploy(1, "ml.m5.large", endpoint_name=endpoint)
        _names_what_is_emulated(str(failed.value), image)
        described = sm.describe_endpoint(EndpointName=endpoint)
        assert described["EndpointStatus"] == "Failed"
        _names_what_is_emulated(described["FailureReason"], image)

        client("s3").put_object(Bucket=bucket, Key=f"{prefix}/in/x.csv", Body=b"1,2,3\n")
        transformer = model.transformer(1, "ml.m5.large", output_path=f"s3://{bucket}/{prefix}/out")
        with pytest.raises(UnexpectedStatusException) as failed:
            transformer.transform(f"s3://{bucket}/{prefix}/in", content_type="text/csv", logs=False)
        _names_what_is_emulated(str(failed.value), image)
    finally:
        sm.delete_endpoint(EndpointName=endpoint)
        sm.delete_endpoint_config(EndpointConfigName=endpoint)
        sm.delete_model(ModelName=model.name)
