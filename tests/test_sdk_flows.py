"""The unmodified SageMaker Python SDK v2 against localaws: the flows the book teaches."""
from __future__ import annotations

import os

import numpy as np
import pytest
import sagemaker
from sagemaker import image_uris
from sagemaker.deserializers import JSONDeserializer
from sagemaker.estimator import Estimator
from sagemaker.exceptions import UnexpectedStatusException
from sagemaker.inputs import TrainingInput
from sagemaker.serializers import CSVSerializer

from .helpers import client, csv_bytes, regression_data, unique


@pytest.fixture(scope="module")
def session():
    return sagemaker.Session()


@pytest.fixture(scope="module")
def role():
    return os.environ["SAGEMAKER_ROLE_ARN"]


def upload(session, name: str, body: bytes) -> str:
    bucket = session.default_bucket()
    prefix = unique("sdk")
    client("s3").put_object(Bucket=bucket, Key=f"{prefix}/{name}", Body=body)
    return f"s3://{bucket}/{prefix}"


def test_default_bucket_and_region_come_from_the_environment(session):
    assert session.boto_region_name == "us-east-1"
    assert session.default_bucket() == "sagemaker-us-east-1-123456789012"


def test_estimator_fit_deploy_predict_transform_delete(session, role):
    X, y = regression_data(seed=7)
    train = upload(session, "train.csv", csv_bytes(np.column_stack([y, X])))
    features = upload(session, "features.csv", csv_bytes(X[:20]))
    estimator = Estimator(image_uris.retrieve("linear-learner", session.boto_region_name), role,
                          instance_count=1, instance_type="ml.m5.large", sagemaker_session=session,
                          output_path=f"s3://{session.default_bucket()}/{unique('out')}")
    estimator.set_hyperparameters(feature_dim=4, predictor_type="regressor", mini_batch_size=50)
    estimator.fit({"train": TrainingInput(train, content_type="text/csv")})
    assert estimator.model_data.endswith("/output/model.tar.gz")

    predictor = estimator.deploy(1, "ml.m5.large", serializer=CSVSerializer(), deserializer=JSONDeserializer())
    scores = [p["score"] for p in predictor.predict(X[:5])["predictions"]]
    assert np.abs(np.array(scores) - y[:5]).max() < 1.5

    transformer = estimator.transformer(1, "ml.m5.large", accept="application/jsonlines", assemble_with="Line",
                                        output_path=f"s3://{session.default_bucket()}/{unique('pred')}")
    transformer.transform(features, content_type="text/csv", split_type="Line")
    out = sagemaker.s3.S3Downloader.read_file(f"{transformer.output_path}/features.csv.out", session)
    assert len(out.strip().splitlines()) == 20

    predictor.delete_model()
    predictor.delete_endpoint()
    session.delete_model(transformer.model_name)
    sm = client("sagemaker")
    assert not [e for e in sm.list_endpoints()["Endpoints"] if e["EndpointName"] == predictor.endpoint_name]


def test_the_sdks_linear_learner_with_record_set(session, role):
    from sagemaker import LinearLearner

    X, y = regression_data(seed=8)
    learner = LinearLearner(role=role, instance_count=1, instance_type="ml.m5.large",
                            predictor_type="regressor", sagemaker_session=session)
    records = learner.record_set(X.astype("float32"), y.astype("float32"))  # recordIO-protobuf in S3
    learner.fit(records)
    job = session.describe_training_job(learner.latest_training_job.name)
    assert job["TrainingJobStatus"] == "Completed"


def test_a_failed_job_raises_with_aws_reason(session, role):
    X, y = regression_data(seed=9)
    train = upload(session, "train.csv", csv_bytes(np.column_stack([y, X])))
    estimator = Estimator(image_uris.retrieve("linear-learner", session.boto_region_name), role,
                          instance_count=1, instance_type="ml.m5.large", sagemaker_session=session)
    estimator.set_hyperparameters(feature_dim=4)  # no predictor_type
    with pytest.raises(UnexpectedStatusException, match="predictor_type"):
        estimator.fit({"train": TrainingInput(train, content_type="text/csv")})
