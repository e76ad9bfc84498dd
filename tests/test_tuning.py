"""Hyperparameter tuning jobs through the SDK's HyperparameterTuner: real training jobs,
real objective metrics, the best one picked; the search strategies alone."""
from __future__ import annotations

import os

import numpy as np
import pytest
import sagemaker
from botocore.exceptions import ClientError
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.tuner import CategoricalParameter, ContinuousParameter, HyperparameterTuner, IntegerParameter

from localaws.sagemaker import tuning

from .helpers import client, csv_bytes, unique
from .test_xgboost import clicks


@pytest.fixture(scope="module")
def session():
    return sagemaker.Session()


@pytest.fixture(scope="module")
def channels(session):
    X, y = clicks(1500, seed=3)
    bucket, prefix = session.default_bucket(), unique("tune")
    s3 = client("s3")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/data.csv", Body=csv_bytes(np.column_stack([y[:1000], X[:1000]])))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/validation/data.csv", Body=csv_bytes(np.column_stack([y[1000:], X[1000:]])))
    return {name: TrainingInput(f"s3://{bucket}/{prefix}/{name}/", content_type="text/csv")
            for name in ("train", "validation")}


def xgboost_estimator(session) -> Estimator:
    estimator = Estimator(image_uris.retrieve("xgboost", session.boto_region_name, version="1.7-1"),
                          os.environ["SAGEMAKER_ROLE_ARN"], instance_count=1, instance_type="ml.m5.large",
                          sagemaker_session=session, output_path=f"s3://{session.default_bucket()}/{unique('tuned')}")
    estimator.set_hyperparameters(objective="binary:logistic", num_round=20, gamma=4, min_child_weight=6,
                                  subsample=0.7)
    return estimator


@pytest.mark.parametrize("strategy", ["Bayesian", "Random"])
def test_tuner_runs_real_jobs_and_picks_the_best(session, channels, strategy):
    tuner = HyperparameterTuner(
        xgboost_estimator(session), objective_metric_name="validation:auc", strategy=strategy,
        hyperparameter_ranges={"lambda": ContinuousParameter(0, 1000), "max_depth": IntegerParameter(1, 6),
                               "eta": ContinuousParameter(0.05, 0.5, scaling_type="Logarithmic")},
        max_jobs=6, max_parallel_jobs=2)
    tuner.fit(channels, job_name=unique(f"tn-{strategy[:3].lower()}"))
    frame = tuner.analytics().dataframe()
    assert len(frame) == 6 and frame["FinalObjectiveValue"].notna().all()
    assert frame["max_depth"].astype(int).between(1, 6).all() and frame["lambda"].astype(float).between(0, 1000).all()
    assert frame["FinalObjectiveValue"].nunique() > 1  # different hyperparameters, different models
    best = tuner.best_training_job()
    # two trials can tie (a large lambda leaves the same stump-like model): any of the best is right
    best_value = frame["FinalObjectiveValue"].max()
    assert best in set(frame.loc[frame["FinalObjectiveValue"] == best_value, "TrainingJobName"])
    described = session.sagemaker_client.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuner.latest_tuning_job.name)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"]["Completed"] == 6
    assert described["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == \
        pytest.approx(frame["FinalObjectiveValue"].max())
    job = session.describe_training_job(best)
    assert job["HyperParameters"]["_tuning_objective_metric"] == "validation:auc"
    assert job["TuningJobArn"] == described["HyperParameterTuningJobArn"]


def test_grid_strategy_tries_every_combination(session, channels):
    tuner = HyperparameterTuner(
        xgboost_estimator(session), objective_metric_name="validation:auc", strategy="Grid",
        hyperparameter_ranges={"max_depth": CategoricalParameter(["2", "4"]), "eta": CategoricalParameter(["0.1", "0.3"])},
        max_jobs=4, max_parallel_jobs=2)  # the SDK sends max_jobs even for Grid, where AWS could infer it
    tuner.fit(channels, job_name=unique("tn-grid"))
    frame = tuner.analytics().dataframe()
    tried = sorted(zip(frame["max_depth"].astype(float), frame["eta"].astype(float)))
    assert tried == [(2, 0.1), (2, 0.3), (4, 0.1), (4, 0.3)]


def test_a_metric_the_algorithm_never_reports_fails_the_tuning_job(session, channels):
    tuner = HyperparameterTuner(xgboost_estimator(session), objective_metric_name="validation:f1",
                                hyperparameter_ranges={"max_depth": IntegerParameter(2, 3)},
                                max_jobs=2, max_parallel_jobs=2, strategy="Random")
    with pytest.raises(Exception):
        tuner.fit(channels, job_name=unique("tn-bad"))
    described = session.sagemaker_client.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuner.latest_tuning_job.name)
    assert described["HyperParameterTuningJobStatus"] == "Failed" and "f1" in described["FailureReason"]


def test_bad_ranges_are_validation_errors():
    sm = client("sagemaker")
    with pytest.raises(ClientError) as err:
        sm.create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=unique("tn-range"),
            HyperParameterTuningJobConfig={
                "Strategy": "Random", "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
                "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
                "ParameterRanges": {"IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "7", "MaxValue": "3"}]}},
            TrainingJobDefinition={
                "AlgorithmSpecification": {"TrainingImage": "x/sagemaker-xgboost:1.7-1", "TrainingInputMode": "File"},
                "RoleArn": os.environ["SAGEMAKER_ROLE_ARN"], "OutputDataConfig": {"S3OutputPath": "s3://b/o"},
                "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
                "StoppingCondition": {"MaxRuntimeInSeconds": 60}})
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "greater than its MaxValue" in err.value.response["Error"]["Message"]


def test_bayesian_search_moves_towards_the_optimum():
    """On a known function the Gaussian process proposes points near the maximum."""
    ranges = [tuning.Range("x", "Continuous", 0.0, 1.0), tuning.Range("y", "Continuous", 0.0, 1.0)]
    search = tuning.BayesianSearch(ranges, seed=0)
    score = lambda u: -((u[0] - 0.8) ** 2 + (u[1] - 0.2) ** 2)  # noqa: E731
    history = []
    for _ in range(12):
        for u in search.suggest(history, 1, maximize=True):
            history.append((u, score(u)))
    random_best = max(score(u) for u in tuning.RandomSearch(ranges, seed=0).positions(12))
    assert max(v for _, v in history) > random_best


def test_range_scaling():
    log = tuning.Range("eta", "Continuous", 0.001, 1.0, scaling="Logarithmic")
    assert float(log.to_value(0.5)) == pytest.approx(0.0316, rel=0.01)
    assert tuning.Range("depth", "Integer", 1, 10).to_value(1.0) == "10"
    assert tuning.Range("c", "Categorical", values=("a", "b")).to_value(0.99) == "b"
