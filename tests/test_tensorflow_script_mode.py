"""TensorFlow script mode: the entry point runs as the container runs it, the SavedModel is
served as TensorFlow Serving answers; alone and through the SageMaker SDK v2."""
from __future__ import annotations

import io
import json
import os
import tarfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
import sagemaker
from sagemaker.exceptions import UnexpectedStatusException
from sagemaker.tensorflow import TensorFlow

from localaws.sagemaker.algorithms import tensorflow_script as script_mode
from localaws.sagemaker.algorithms import tensorflow_serving as serving
from localaws.sagemaker.algorithms.base import Channel, ClientError, TrainingContext

from .helpers import client, csv_bytes, unique

SHOW_ENVIRONMENT = """
import json, os, sys
keys = ["SM_MODEL_DIR", "SM_CHANNEL_TRAINING", "SM_CHANNELS", "SM_HPS", "SM_CURRENT_HOST", "SM_HOSTS",
        "SM_NUM_CPUS", "SM_NUM_GPUS", "SM_OUTPUT_DATA_DIR", "TF_CONFIG", "SM_HP_EPOCHS"]
seen = {"argv": sys.argv[1:], **{k: os.environ.get(k) for k in keys}}
print("ENV " + json.dumps(seen))
open(os.path.join(os.environ["SM_MODEL_DIR"], "seen.json"), "w").write(json.dumps(seen))
if os.environ.get("SM_HP_FAIL") == "True":
    raise SystemExit("the script gave up on purpose")
"""

KERAS_REGRESSION = """
import argparse, os
import numpy as np
import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=30)
parser.add_argument("--model_dir")
args, _ = parser.parse_known_args()
data = np.loadtxt(os.path.join(os.environ["SM_CHANNEL_TRAINING"], "train.csv"), delimiter=",", dtype="float32")
tf.keras.utils.set_random_seed(0)
model = tf.keras.Sequential([tf.keras.Input((3,), name="x"), tf.keras.layers.Dense(1)])
model.compile(tf.keras.optimizers.Adam(0.1), "mse")
history = model.fit(data[:, 1:], data[:, :1], epochs=args.epochs, batch_size=32, verbose=0)
print(f"final_loss={history.history['loss'][-1]:.5f}")
model.export(os.path.join(os.environ["SM_MODEL_DIR"], "1"), verbose=False)
"""


class FakeS3:
    def __init__(self, objects: dict[str, bytes]):
        self.objects = objects

    def read(self, uri: str) -> bytes:
        return self.objects[uri]


def source_tarball(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def run_alone(tmp_path: Path, hyperparameters: dict, instance_count: int = 1):
    (tmp_path / "input" / "training").mkdir(parents=True)
    (tmp_path / "input" / "training" / "train.csv").write_text("1,2\n")
    model_dir, output_dir, lines = tmp_path / "model", tmp_path / "output", []
    model_dir.mkdir()
    output_dir.mkdir()
    s3 = FakeS3({"s3://b/src/sourcedir.tar.gz": source_tarball({"entry.py": SHOW_ENVIRONMENT})})
    raw = {"sagemaker_program": '"entry.py"', "sagemaker_submit_directory": '"s3://b/src/sourcedir.tar.gz"',
           **hyperparameters}
    context = TrainingContext("job", s3, output_dir, "ml.m5.large", instance_count)
    channels = {"training": Channel("training", tmp_path / "input" / "training")}
    script_mode.train(channels, raw, model_dir, lines.append, context)
    return json.loads((model_dir / "seen.json").read_text()), lines


# ------------------------------------------------------------------ the training toolkit alone
def test_script_gets_the_toolkit_environment_and_hyperparameters_as_arguments(tmp_path):
    seen, lines = run_alone(tmp_path, {"epochs": "5", "model_dir": '"s3://b/job/model"'})
    assert seen["argv"] == ["--epochs", "5", "--model_dir", "s3://b/job/model"]
    assert seen["SM_MODEL_DIR"] == str(tmp_path / "model")
    assert seen["SM_CHANNEL_TRAINING"] == str(tmp_path / "input" / "training")
    assert json.loads(seen["SM_CHANNELS"]) == ["training"]
    assert json.loads(seen["SM_HPS"]) == {"epochs": 5, "model_dir": "s3://b/job/model"}
    assert seen["SM_HP_EPOCHS"] == "5"
    assert (seen["SM_CURRENT_HOST"], json.loads(seen["SM_HOSTS"]), seen["SM_NUM_GPUS"]) == ("algo-1", ["algo-1"], "0")
    assert seen["TF_CONFIG"] is None
    assert any(line.startswith("ENV ") for line in lines), "the script's output goes to the job log"


def test_multi_worker_mirrored_strategy_gets_one_process_per_host_with_tf_config(tmp_path):
    seen, lines = run_alone(tmp_path, {script_mode.MWMS: "true"}, instance_count=2)
    config = json.loads(seen["TF_CONFIG"])
    assert config["task"] == {"type": "worker", "index": 0} and len(config["cluster"]["worker"]) == 2
    assert json.loads(seen["SM_HOSTS"]) == ["algo-1", "algo-2"]
    assert any(line.startswith("[algo-2] ENV ") for line in lines), "every host ran the script"


def test_a_failing_script_fails_the_job_with_its_last_output(tmp_path):
    with pytest.raises(script_mode.ExecuteUserScriptError, match="the script gave up on purpose"):
        run_alone(tmp_path, {"fail": "true"})


def test_missing_entry_point_and_unemulated_distributions_are_client_errors(tmp_path):
    with pytest.raises(ClientError, match="sagemaker_program"):
        script_mode.train({}, {}, tmp_path, print, TrainingContext("job", FakeS3({})))
    with pytest.raises(ClientError, match="not emulated"):
        run_alone(tmp_path, {"sagemaker_parameter_server_enabled": "true"})


# ------------------------------------------------------------------ TensorFlow Serving alone
@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> Path:
    import tensorflow as tf

    class Doubler(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
        def serve(self, x):
            return {"y": 2 * x[:, :1] + x[:, 1:]}

    root = tmp_path_factory.mktemp("served")
    module = Doubler()
    tf.saved_model.save(module, str(root / "my_model" / "1"), signatures={"serving_default": module.serve})
    tf.saved_model.save(module, str(root / "my_model" / "0"), signatures={"serving_default": module.serve})
    return root


def test_serving_answers_tf_serving_rest_json_and_csv(saved_model):
    model = serving.load(saved_model)
    assert model.path.name == "1", "the highest version is served"
    body, kind = model.predict(b'{"instances": [[1, 2], [3, 0]]}', "application/json", None)
    assert (json.loads(body), kind) == ({"predictions": [[4.0], [6.0]]}, "application/json")
    assert json.loads(model.predict(b'{"inputs": [[1, 1]]}', "application/json", None)[0]) == {"outputs": [[3.0]]}
    assert json.loads(model.predict(b"1,2\n0,5\n", "text/csv", None)[0]) == {"predictions": [[4.0], [5.0]]}


def test_serving_rejects_bad_requests_as_tf_serving_does(saved_model):
    model = serving.load(saved_model)
    for body, message in [(b"[[1, 2]]", "Is not object"), (b'{"rows": []}', "Missing 'inputs' or 'instances'"),
                          (b'{"instances": [[1, 2, 3]]}', r"has shape \[1, 3\]; the signature expects \[None, 2\]"), (b'{"instances": [[1, 2]], "signature_name": "x"}',
                                                                 "not found")]:
        with pytest.raises(ClientError, match=message):
            model.predict(body, "application/json", None)


def test_a_model_without_saved_model_is_a_client_error(tmp_path):
    with pytest.raises(ClientError, match="no SavedModel"):
        serving.load(tmp_path)


# ------------------------------------------------------------------ through the SDK
@pytest.fixture(scope="module")
def session():
    return sagemaker.Session()


def estimator(session, tmp_path: Path, code: str, **kwargs) -> TensorFlow:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "train.py").write_text(textwrap.dedent(code))
    return TensorFlow(entry_point="train.py", source_dir=str(tmp_path), role=os.environ["SAGEMAKER_ROLE_ARN"],
                      instance_count=1, instance_type="ml.m5.large", framework_version="2.19",
                      py_version="py312", sagemaker_session=session,
                      output_path=f"s3://{session.default_bucket()}/{unique('tf-out')}", **kwargs)


def test_fit_deploy_predict_transform_delete(session, tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 3)).astype("float32")
    y = X @ np.array([2.0, -1.0, 0.5]) + 1.0
    bucket, prefix = session.default_bucket(), unique("tf-data")
    client("s3").put_object(Bucket=bucket, Key=f"{prefix}/train/train.csv", Body=csv_bytes(np.column_stack([y, X])))
    client("s3").put_object(Bucket=bucket, Key=f"{prefix}/batch/x.csv", Body=csv_bytes(X[:10]))
    tf_estimator = estimator(session, tmp_path / "src", KERAS_REGRESSION, hyperparameters={"epochs": 40},
                             metric_definitions=[{"Name": "train:loss", "Regex": "final_loss=([0-9.]+)"}])
    tf_estimator.fit(f"s3://{bucket}/{prefix}/train")
    job = session.describe_training_job(tf_estimator.latest_training_job.name)
    loss = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}["train:loss"]
    assert loss < 0.05 * np.var(y), "the script's model learned, and its metric was scraped from the log"

    predictor = tf_estimator.deploy(initial_instance_count=1, instance_type="ml.m5.large")
    try:
        answer = predictor.predict({"instances": X[:5].tolist()})
        assert np.allclose(np.ravel(answer["predictions"]), y[:5], atol=0.5)
        transformer = tf_estimator.transformer(1, "ml.m5.large", output_path=f"s3://{bucket}/{prefix}/out")
        transformer.transform(f"s3://{bucket}/{prefix}/batch", content_type="text/csv", split_type="Line")
        out = sagemaker.s3.S3Downloader.read_file(f"{transformer.output_path}/x.csv.out", session)
        assert np.allclose(np.ravel(json.loads(out)["predictions"]), y[:10], atol=0.5)
        session.delete_model(transformer.model_name)
    finally:
        predictor.delete_model()
        predictor.delete_endpoint()


def test_a_failing_script_fails_the_sdk_fit_with_the_reason(session, tmp_path):
    bucket, prefix = session.default_bucket(), unique("tf-fail")
    client("s3").put_object(Bucket=bucket, Key=f"{prefix}/train.csv", Body=b"1,2\n")
    tf_estimator = estimator(session, tmp_path / "src", "raise ValueError('no data for you')\n")
    with pytest.raises(UnexpectedStatusException, match="ExecuteUserScriptError(.|\n)*no data for you"):
        tf_estimator.fit(f"s3://{bucket}/{prefix}")
