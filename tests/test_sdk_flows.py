"""The unmodified SageMaker Python SDK v2 against localaws: the flows the book teaches."""
from __future__ import annotations

import contextlib
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


# ---------------------------------------------------------------- flows written for real AWS (issue 18)
def test_get_execution_role_and_account_id_work_offline(session):
    """The SDK sends STS calls to a fixed regional URL; localaws/boot makes it honour
    AWS_ENDPOINT_URL as every other client does, so this needs no code in notebooks."""
    assert sagemaker.get_execution_role(session) == os.environ["SAGEMAKER_ROLE_ARN"]
    assert session.account_id() == "123456789012"


def test_a_role_given_by_name_is_refused_as_on_aws_and_a_default_bucket_with_a_prefix(session, role):
    """Issue 18: code that names its role ("SageMakerRole"), and a default bucket with a key
    prefix. The SDK turns a role name into an ARN with iam:GetRole, which
    AmazonSageMakerFullAccess (v29, moto's copy of the AWS managed policy) does not allow:
    a reader with that policy gets AccessDenied on AWS too, so localaws refuses it the same
    way rather than inventing a role. Give the ARN (ROLE = None uses get_execution_role)."""
    from botocore.exceptions import ClientError

    for name in (role.rsplit("/", 1)[1], "SageMakerRole"):
        with pytest.raises(ClientError, match="AccessDenied.*iam:GetRole"):
            session.expand_role(name)
    assert session.expand_role(role) == role  # an ARN needs no lookup
    # With a prefix, the SDK probes the bucket with ListObjectsV2, which answers NoSuchBucket
    # (not head_bucket's bare 404) when the bucket is missing, so SDK 2.257 creates the bucket
    # only without a prefix: on AWS as here. Once it exists, the prefix works.
    session.default_bucket()
    prefixed = sagemaker.Session(default_bucket_prefix="course-run")
    uri = prefixed.upload_string_as_file_body("x", prefixed.default_bucket(),
                                              f"{prefixed.default_bucket_prefix}/probe.txt")
    assert uri == f"s3://{session.default_bucket()}/course-run/probe.txt"
    assert sagemaker.s3.S3Downloader.read_file(uri, prefixed) == "x"


def xgboost_estimator(session, role, instance_type="ml.m5.large"):
    estimator = Estimator(image_uris.retrieve("xgboost", session.boto_region_name, version="1.7-1"), role,
                          instance_count=1, instance_type=instance_type, sagemaker_session=session,
                          output_path=f"s3://{session.default_bucket()}/{unique('out')}")
    estimator.set_hyperparameters(objective="binary:logistic", num_round=5)
    return estimator


@pytest.fixture(scope="module")
def clicks(session):
    rng = np.random.default_rng(3)
    X = rng.random((300, 3))
    y = (X[:, 0] + 0.2 * rng.random(300) > 0.6).astype(int)
    prefix = upload(session, "train/data.csv", csv_bytes(np.column_stack([y, X])))
    return {"train": TrainingInput(f"{prefix}/train/", content_type="text/csv"),
            "validation": TrainingInput(f"{prefix}/train/", content_type="text/csv")}


def test_fit_without_waiting_then_attach(session, role, clicks):
    """Estimator.attach read OutputDataConfig.KmsKeyId, which AWS always returns ('' when unset)."""
    estimator = xgboost_estimator(session, role)
    estimator.fit(clicks, wait=False)
    attached = Estimator.attach(estimator.latest_training_job.name, sagemaker_session=session)
    described = session.describe_training_job(estimator.latest_training_job.name)
    artifacts = described["ModelArtifacts"]["S3ModelArtifacts"]
    assert attached.model_data == artifacts and attached.instance_type == "ml.m5.large"
    bucket, key = artifacts[len("s3://"):].split("/", 1)
    assert session.boto_session.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    assert described["OutputDataConfig"]["KmsKeyId"] == ""


def test_tuner_attach_best_estimator_and_warm_start(session, role, clicks):
    from sagemaker.tuner import ContinuousParameter, HyperparameterTuner

    tuner = HyperparameterTuner(xgboost_estimator(session, role, "ml.c5.xlarge"), "validation:auc",
                                {"eta": ContinuousParameter(0.1, 0.5)}, max_jobs=2, max_parallel_jobs=1)
    tuner.fit(clicks, job_name=unique("att"))
    name = tuner.latest_tuning_job.name
    attached = HyperparameterTuner.attach(name, sagemaker_session=session)
    assert attached.objective_metric_name == "validation:auc" and attached.max_jobs == 2
    assert attached.estimator.instance_type == "ml.c5.xlarge"
    assert tuner.best_estimator().instance_type == "ml.c5.xlarge"
    assert tuner.identical_dataset_and_algorithm_tuner().warm_start_config.parents == {name}
    trials = session.sagemaker_client.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name)["TrainingJobSummaries"]
    assert len(trials) == 2
    for trial in trials:  # the tuning job's instances, not a default (SDK v2 sends HyperParameterTuningResourceConfig)
        job = session.describe_training_job(trial["TrainingJobName"])
        assert job["ResourceConfig"]["InstanceType"] == "ml.c5.xlarge"


def test_wait_after_fit_without_waiting_then_logs_and_tuner_deploy(session, role, clicks):
    """Issue 18: fit(wait=False) then wait(); attach().logs(); HyperparameterTuner.deploy()."""
    from sagemaker.tuner import HyperparameterTuner, IntegerParameter

    estimator = xgboost_estimator(session, role)
    estimator.fit(clicks, wait=False)
    estimator.latest_training_job.wait(logs="None")
    attached = Estimator.attach(estimator.latest_training_job.name, sagemaker_session=session)
    attached.logs()  # tails the job's CloudWatch stream to its end
    assert session.describe_training_job(attached.latest_training_job.name)["TrainingJobStatus"] == "Completed"

    tuner = HyperparameterTuner(xgboost_estimator(session, role), "validation:auc",
                                {"max_depth": IntegerParameter(1, 4)}, max_jobs=2, max_parallel_jobs=2)
    tuner.fit(clicks, job_name=unique("dep"))
    predictor = tuner.deploy(1, "ml.m5.large", serializer=CSVSerializer())
    try:
        scores = [float(x) for x in predictor.predict(np.array([[0.9, 0.5, 0.5], [0.1, 0.5, 0.5]])).decode().split()]
        assert scores[0] > 0.5 > scores[1]  # the rule the data follows: x0 high -> 1
        best = tuner.best_training_job()
        assert session.sagemaker_client.describe_endpoint(EndpointName=predictor.endpoint_name)["EndpointStatus"] == \
            "InService" and best.startswith("dep")
    finally:
        predictor.delete_model()
        predictor.delete_endpoint()


def test_autotune_picks_the_documented_range_for_eligible_hyperparameters(session, role, clicks):
    """HyperparameterTuner(autotune=True) sends AutoParameters; localaws picks the range
    AWS recommends on "Tune an XGBoost Model" (eta: 0.1-0.5) and keeps a hyperparameter
    without one (verbosity) at its value hint."""
    from sagemaker.tuner import HyperparameterTuner

    estimator = xgboost_estimator(session, role)
    estimator.set_hyperparameters(objective="binary:logistic", num_round=5, eta=0.3, verbosity=1)
    tuner = HyperparameterTuner(estimator, "validation:auc", None, max_jobs=3, max_parallel_jobs=3, autotune=True,
                                hyperparameters_to_keep_static=["objective", "num_round"])
    tuner.fit(clicks, job_name=unique("auto"))
    name = tuner.latest_tuning_job.name
    described = session.sagemaker_client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert described["Autotune"] == {"Mode": "Enabled"}
    assert described["HyperParameterTuningJobStatus"] == "Completed", described.get("FailureReason")
    assert described["TrainingJobDefinition"]["StaticHyperParameters"]["verbosity"] == "1"
    trials = session.sagemaker_client.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name)["TrainingJobSummaries"]
    etas = [float(t["TunedHyperParameters"]["eta"]) for t in trials]
    assert len(set(etas)) == 3 and all(0.1 <= eta <= 0.5 for eta in etas)
    assert all(set(t["TunedHyperParameters"]) == {"eta"} for t in trials)


def test_warm_start_reuses_the_parents_trials_and_refuses_what_aws_refuses(session, role, clicks):
    """Developer Guide, "Run a Warm Start Hyperparameter Tuning Job": OverallBestTrainingJob
    for IdenticalDataAndAlgorithm, and its restrictions (terminal parents, same objective)."""
    from sagemaker.tuner import ContinuousParameter, HyperparameterTuner, WarmStartConfig, WarmStartTypes

    ranges = {"eta": ContinuousParameter(0.1, 0.5)}
    parent = HyperparameterTuner(xgboost_estimator(session, role), "validation:auc", ranges, max_jobs=3,
                                 max_parallel_jobs=3, strategy="Bayesian")
    parent.fit(clicks, job_name=unique("par"))
    parent_name = parent.latest_tuning_job.name
    child = parent.identical_dataset_and_algorithm_tuner(additional_parents=None)
    child.max_jobs, child.max_parallel_jobs = 2, 1
    child.fit(clicks, job_name=unique("chi"))
    sm = session.sagemaker_client
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=child.latest_tuning_job.name)
    everything = [t for job in (parent_name, child.latest_tuning_job.name) for t in
                  sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=job)[
                      "TrainingJobSummaries"]]
    value = {t["TrainingJobName"]: t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for t in everything}
    overall = described["OverallBestTrainingJob"]
    assert value[overall["TrainingJobName"]] == max(value.values())  # ties: any of the best
    assert overall["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == max(value.values())
    assert len(everything) == 5

    transfer = parent.transfer_learning_tuner()
    transfer.max_jobs = 1
    transfer.fit(clicks, job_name=unique("tra"))
    assert "OverallBestTrainingJob" not in sm.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=transfer.latest_tuning_job.name)  # IdenticalDataAndAlgorithm only

    other_objective = HyperparameterTuner(xgboost_estimator(session, role), "validation:logloss", ranges,
                                          objective_type="Minimize", max_jobs=1, max_parallel_jobs=1,
                                          warm_start_config=WarmStartConfig(WarmStartTypes.TRANSFER_LEARNING,
                                                                            parents={parent_name}))
    with pytest.raises(sm.exceptions.ClientError, match="objective metric"):
        other_objective.fit(clicks, job_name=unique("obj"))


def test_list_monitoring_schedules_is_empty_and_a_schedule_is_not_found(session):
    sm = session.sagemaker_client
    assert sm.list_monitoring_schedules(EndpointName="any")["MonitoringScheduleSummaries"] == []
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_monitoring_schedule(MonitoringScheduleName="none")


XGBOOST_SCRIPT = '''
import argparse
import glob
import os

import numpy as np
import xgboost as xgb


def model_fn(model_dir):  # the container has no default: serving imports this module and calls it
    booster = xgb.Booster()
    booster.load_model(os.path.join(model_dir, "xgboost-model"))
    return booster


if __name__ == "__main__":  # training runs the script; serving only imports it
    parser = argparse.ArgumentParser()
    parser.add_argument("--num_round", type=int, default=10)
    parser.add_argument("--max_depth", type=int, default=3)
    args, _ = parser.parse_known_args()
    files = glob.glob(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "*.csv"))
    data = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2) for f in files])
    train = xgb.DMatrix(data[:, 1:], label=data[:, 0])
    booster = xgb.train({"objective": "binary:logistic", "max_depth": args.max_depth}, train, args.num_round)
    booster.save_model(os.path.join(os.environ["SM_MODEL_DIR"], "xgboost-model"))
    print(f"trained {args.num_round} rounds on {len(data)} rows from {os.environ['SM_CHANNELS']}")
'''


def xgboost_script_estimator(session, role, source_dir, script=XGBOOST_SCRIPT):
    from sagemaker.xgboost import XGBoost

    (source_dir / "train.py").write_text(script)
    return XGBoost(entry_point="train.py", source_dir=str(source_dir), framework_version="1.7-1", role=role,
                   instance_count=1, instance_type="ml.m5.large", hyperparameters={"num_round": 7},
                   sagemaker_session=session, output_path=f"s3://{session.default_bucket()}/{unique('xgbs')}")


@contextlib.contextmanager
def deployed(session, estimator, name):
    """Deploy, give the endpoint's description (its status whatever it is), then delete the
    endpoint, its configuration and its model: nothing left for other tests to find."""
    sm = session.sagemaker_client
    try:
        try:
            estimator.deploy(1, "ml.m5.large", endpoint_name=name)
        except UnexpectedStatusException:
            pass
        yield sm.describe_endpoint(EndpointName=name)
    finally:
        config = sm.describe_endpoint(EndpointName=name)["EndpointConfigName"]
        model = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0]["ModelName"]
        sm.delete_endpoint(EndpointName=name)
        sm.delete_endpoint_config(EndpointConfigName=config)
        sm.delete_model(ModelName=model)


def test_xgboost_script_mode_runs_the_users_script_and_serves_it_with_its_model_fn(session, role, clicks, tmp_path):
    """Issue 18: sagemaker.xgboost.XGBoost(entry_point=...) was refused. The container's
    framework mode runs the script with the toolkit's contract (SM_CHANNEL_TRAIN,
    SM_MODEL_DIR, --num_round 7); its endpoint imports the script, loads the model with its
    model_fn and answers with the default handlers (JSON unless Accept asks otherwise)."""
    import tarfile

    import xgboost as xgb

    estimator = xgboost_script_estimator(session, role, tmp_path)
    estimator.fit({"train": clicks["train"]})
    described = session.describe_training_job(estimator.latest_training_job.name)
    assert described["TrainingJobStatus"] == "Completed"
    archive = tmp_path / "model.tar.gz"
    bucket, key = described["ModelArtifacts"]["S3ModelArtifacts"][len("s3://"):].split("/", 1)
    archive.write_bytes(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "model", filter="data")
    booster = xgb.Booster()
    booster.load_model(str(tmp_path / "model" / "xgboost-model"))
    assert booster.num_boosted_rounds() == 7  # the hyperparameter reached the script as --num_round 7
    rows = np.random.default_rng(0).random((2, 3))
    predictor = estimator.deploy(1, "ml.m5.large", serializer=CSVSerializer(), deserializer=JSONDeserializer())
    try:
        answer = np.array(predictor.predict(rows), dtype=float).ravel()
    finally:  # the endpoint, its configuration and the model: nothing left for other tests to find
        predictor.delete_model()  # it reads the model's name from the endpoint configuration
        predictor.delete_endpoint()
    assert np.allclose(answer, booster.predict(xgb.DMatrix(rows)), atol=1e-6)


def test_xgboost_script_mode_runs_the_users_handlers_and_needs_a_model_fn(session, role, clicks, tmp_path):
    """The entry point's input_fn and output_fn run around the default predict_fn; without a
    model_fn the endpoint fails, as the container's default model_fn raises NotImplementedError
    (sagemaker-containers _transformer.default_model_fn)."""
    handlers = XGBOOST_SCRIPT + '''

def input_fn(body, content_type):  # the request: one comma-separated row per line, after a header line
    lines = body.decode().strip().splitlines()[1:]
    return xgb.DMatrix(np.array([[float(v) for v in line.split(",")] for line in lines]))


def output_fn(prediction, accept):
    return "|".join(f"{p:.4f}" for p in prediction), "text/plain"
'''
    estimator = xgboost_script_estimator(session, role, tmp_path, handlers)
    estimator.fit({"train": clicks["train"]})
    name = unique("xgb-handlers")
    with deployed(session, estimator, name) as described:
        assert described["EndpointStatus"] == "InService", described.get("FailureReason")
        answer = client("sagemaker-runtime").invoke_endpoint(EndpointName=name, ContentType="text/csv",
                                                             Body=b"x0,x1,x2\n0.9,0.5,0.5\n0.1,0.5,0.5\n")
        assert answer["ContentType"] == "text/plain"
        scores = [float(v) for v in answer["Body"].read().decode().split("|")]
        assert len(scores) == 2 and scores[0] > 0.5 > scores[1]

    without = xgboost_script_estimator(session, role, tmp_path, XGBOOST_SCRIPT.replace("def model_fn(", "def load("))
    without.fit({"train": clicks["train"]})
    with deployed(session, without, unique("xgb-no-model-fn")) as described:
        assert described["EndpointStatus"] == "Failed"
        assert "Please provide a model_fn implementation" in described["FailureReason"]


def test_async_inference_writes_the_answer_and_the_failure_to_s3(session, role, clicks):
    """Issue 18: asynchronous endpoints (AsyncInferenceConfig, InvokeEndpointAsync) were not
    emulated. The SDK's AsyncPredictor uploads the request, invokes, and reads the answer from
    S3OutputPath; a request the model refuses lands in S3FailurePath as <id>-error.out; Body
    and InputLocation are exclusive (botocore's documentation of InvokeEndpointAsync)."""
    from botocore.exceptions import ClientError
    from sagemaker.async_inference import AsyncInferenceConfig, WaiterConfig
    from sagemaker.deserializers import CSVDeserializer

    estimator = xgboost_estimator(session, role)
    estimator.fit(clicks)
    out = f"s3://{session.default_bucket()}/{unique('async')}"
    predictor = estimator.deploy(1, "ml.m5.large", serializer=CSVSerializer(), deserializer=CSVDeserializer(),
                                 async_inference_config=AsyncInferenceConfig(output_path=f"{out}/out",
                                                                             failure_path=f"{out}/failed"))
    runtime = client("sagemaker-runtime")
    try:
        rows = np.random.default_rng(1).random((3, 3))
        # AsyncPredictor: upload, invoke, then wait for the output object while a thread
        # watches the failure path (a short watch, or it outlives the test's emulator)
        answer = predictor.predict(rows, waiter_config=WaiterConfig(max_attempts=3, delay=1))
        scores = np.array(answer, dtype=float).ravel()

        bad = runtime.invoke_endpoint_async(EndpointName=predictor.endpoint_name, ContentType="text/csv",
                                            InputLocation=upload(session, "bad.csv", b"not,a,number\n"))
        with pytest.raises(ClientError, match="mutually exclusive"):
            runtime.invoke_endpoint_async(EndpointName=predictor.endpoint_name, ContentType="text/csv",
                                          InputLocation=f"{out}/x.csv", Body=b"1,2,3")
        inline = runtime.invoke_endpoint_async(EndpointName=predictor.endpoint_name, ContentType="text/csv",
                                               Body=b"0.1,0.2,0.3", S3OutputPathExtension="inline",
                                               InferenceId="inline-1")
        described = client("sagemaker").describe_endpoint(EndpointName=predictor.endpoint_name)
    finally:
        predictor.delete_model()
        predictor.delete_endpoint()
    assert scores.shape == (3,) and ((scores > 0) & (scores < 1)).all()
    assert bad["FailureLocation"].startswith(f"{out}/failed/") and bad["FailureLocation"].endswith("-error.out")
    bucket, key = bad["FailureLocation"][len("s3://"):].split("/", 1)
    assert client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()  # the container's complaint
    assert described["AsyncInferenceConfig"]["OutputConfig"]["S3OutputPath"] == f"{out}/out"
    assert inline["OutputLocation"] == f"{out}/out/inline/inline-1.out"
    bucket, key = inline["OutputLocation"][len("s3://"):].split("/", 1)
    assert 0 < float(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()) < 1


def test_a_real_time_endpoint_refuses_async_invocations(session, role, clicks):
    from botocore.exceptions import ClientError

    estimator = xgboost_estimator(session, role)
    estimator.fit(clicks)
    predictor = estimator.deploy(1, "ml.m5.large")
    try:
        with pytest.raises(ClientError) as refused:
            client("sagemaker-runtime").invoke_endpoint_async(EndpointName=predictor.endpoint_name,
                                                             ContentType="text/csv", Body=b"0.1,0.2,0.3")
    finally:
        predictor.delete_model()
        predictor.delete_endpoint()
    assert refused.value.response["Error"]["Code"] == "ValidationError"


def test_a_serverless_endpoint_predicts_and_describes_its_serverless_configuration(session, role, clicks):
    """Issue 18: serverless inference configs. The endpoint answers as any other; its variant
    summary carries Current/DesiredServerlessConfig, not instance counts (botocore's
    ProductionVariantSummary)."""
    from sagemaker.deserializers import CSVDeserializer
    from sagemaker.serverless import ServerlessInferenceConfig

    estimator = xgboost_estimator(session, role)
    estimator.fit(clicks)
    predictor = estimator.deploy(serverless_inference_config=ServerlessInferenceConfig(memory_size_in_mb=2048,
                                                                                       max_concurrency=2),
                                 serializer=CSVSerializer(), deserializer=CSVDeserializer())
    try:
        scores = np.array(predictor.predict(np.random.default_rng(0).random((2, 3))), dtype=float).ravel()
        variant = client("sagemaker").describe_endpoint(EndpointName=predictor.endpoint_name)["ProductionVariants"][0]
    finally:
        predictor.delete_model()
        predictor.delete_endpoint()
    assert scores.shape == (2,) and ((scores > 0) & (scores < 1)).all()
    assert variant["CurrentServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 2}
    assert "CurrentInstanceCount" not in variant
