"""SageMaker image-classification offline: RecordIO, the algorithm alone, then boto3 and the SDK."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from botocore.exceptions import ClientError as AwsClientError
import sagemaker
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.serializers import IdentitySerializer

from localaws.sagemaker.algorithms import for_image, image_classification as ic, recordio
from localaws.sagemaker.algorithms.base import Channel, ClientError, parse_hyperparameters

from .helpers import client, training_job_request, unique

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "samples" / "caltech_style"
IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
SETTINGS = dict(num_classes=10, num_training_samples=500, image_shape="3,32,32", num_layers=18,
                epochs=8, mini_batch_size=16, learning_rate=0.002, optimizer="adam")
CHANCE = 0.1


def hp(**changes):
    return parse_hyperparameters(ic.HYPERPARAMETERS, {k: str(v) for k, v in {**SETTINGS, **changes}.items()})


def rec_channels(tmp_path) -> dict[str, Channel]:
    channels = {}
    for name, file in (("train", "train.rec"), ("validation", "val.rec")):
        (tmp_path / name).mkdir()
        shutil.copy(SAMPLE / file, tmp_path / name / file)
        channels[name] = Channel(name, tmp_path / name, "application/x-recordio")
    return channels


def val_images() -> list[tuple[int, bytes]]:
    return [(int(r.label), r.image) for r in recordio.read_images(SAMPLE / "val.rec")]


# ---------------------------------------------------------------- RecordIO
def test_recordio_round_trip_with_magic_inside_and_multi_labels(tmp_path):
    awkward = b"abcd" + recordio.MAGIC.to_bytes(4, "little") + b"efghij" + recordio.MAGIC.to_bytes(4, "little")
    path = recordio.write_images(tmp_path / "x.rec", [(3, 7, awkward), ([1.0, 0.0, 1.0], 8, b"png?")])
    data = path.read_bytes()
    assert len(data) % 4 == 0
    first, second = recordio.read_images(path)
    assert (first.labels, first.id, first.image) == ([3.0], 7, awkward)
    assert (second.labels, second.id, second.image) == ([1.0, 0.0, 1.0], 8, b"png?")


def test_sample_rec_matches_its_lst_and_images():
    records = recordio.read_images(SAMPLE / "train.rec")
    entries = recordio.read_lst(SAMPLE / "train.lst")
    assert len(records) == len(entries) == 500
    for record, (index, labels, relative) in zip(records[::97], entries[::97]):
        assert record.id == index and record.labels == labels
        assert record.image == (SAMPLE / "images" / "train" / relative).read_bytes()


def test_not_recordio_is_refused():
    with pytest.raises(recordio.RecordIOError, match="magic"):
        list(recordio.iter_records(b"label,feature\n1,2\n"))


# ---------------------------------------------------------------- the algorithm alone
def test_image_repository_selects_the_module():
    assert for_image(IMAGE) is ic


def test_hyperparameters_as_aws_checks_them():
    with pytest.raises(ClientError, match="'num_classes', 'num_training_samples' which are required"):
        parse_hyperparameters(ic.HYPERPARAMETERS, {"epochs": "2"})
    with pytest.raises(ClientError, match="Additional hyperparameters are not allowed"):
        hp(dropout=0.5)
    with pytest.raises(ClientError, match="num_layers"):
        hp(num_layers=19)
    with pytest.raises(ClientError, match="image_shape"):
        ic.parse_shape("224,224")


def test_learning_rate_schedule_steps_down_at_the_given_epochs():
    schedule = ic._schedule(hp(learning_rate=0.1, lr_scheduler_step="2,4", lr_scheduler_factor=0.5))
    assert [schedule(e) for e in range(5)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert ic._schedule(hp()) is None


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ic")
    lines = []
    metrics = ic.train(rec_channels(tmp), hp(), tmp / "model", lines.append)
    return metrics, tmp / "model", lines


def test_learns_from_recordio_and_logs_like_mxnet(trained):
    metrics, model_dir, lines = trained
    assert metrics["validation:accuracy"] > 2 * CHANCE
    assert metrics["train:accuracy"] > 2 * CHANCE
    assert any(line.startswith("Epoch[7] Validation-accuracy=") for line in lines)
    assert sorted(p.name for p in model_dir.iterdir()) == [ic.MODEL_FILE, ic.INFO_FILE]


def test_endpoint_and_batch_answers(trained):
    _, model_dir, _ = trained
    label, image = val_images()[0]
    body, kind = ic.load(model_dir).predict(image, "application/x-image", None)
    probabilities = json.loads(body)
    assert kind == "application/json" and len(probabilities) == 10
    assert abs(sum(probabilities) - 1) < 1e-4
    body, kind = ic.load(model_dir, {"SAGEMAKER_BATCH": "true"}).predict(image, "image/jpeg", None)
    assert kind == "application/jsonlines" and len(json.loads(body)["prediction"]) == 10
    with pytest.raises(ClientError, match="content type"):
        ic.load(model_dir).predict(b"1,2,3", "text/csv", None)
    with pytest.raises(ClientError, match="decode"):
        ic.load(model_dir).predict(b"not an image", "image/png", None)


def test_labels_beyond_num_classes_are_refused(tmp_path):
    with pytest.raises(ClientError, match="num_classes=5"):
        ic.train(rec_channels(tmp_path), hp(num_classes=5), tmp_path / "model", lambda _: None)


# ---------------------------------------------------------------- boto3 and the SDK
def upload_sample(bucket: str, prefix: str, files: dict[str, Path]) -> None:
    s3 = client("s3")
    for key, path in files.items():
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=path.read_bytes())


def test_image_and_lst_channels_through_boto3(tmp_path):
    session = sagemaker.Session()
    bucket, prefix = session.default_bucket(), unique("ic-lst")
    files = {}
    for split, source in (("train", "train"), ("validation", "val")):
        entries = recordio.read_lst(SAMPLE / f"{source}.lst")[::5]  # a fifth of the images keeps it quick
        lst = tmp_path / f"{split}.lst"
        lst.write_text("".join(recordio.lst_line(i, labels[0], path) for i, labels, path in entries))
        files[f"{split}_lst/{split}.lst"] = lst
        files.update({f"{split}/{path}": SAMPLE / "images" / source / path for _, _, path in entries})
    upload_sample(bucket, prefix, files)
    name = unique("ic-lst")
    request = training_job_request(name, bucket, {k: str(v) for k, v in {**SETTINGS, "epochs": 1}.items()}, IMAGE,
                                   {ch: f"s3://{bucket}/{prefix}/{ch}/" for ch in ("train", "validation", "train_lst", "validation_lst")})
    for channel in request["InputDataConfig"]:
        channel["ContentType"] = "application/x-image"
    request["ResourceConfig"]["InstanceType"] = "ml.p3.2xlarge"  # the algorithm trains on GPU instances only
    sm = client("sagemaker")
    sm.create_training_job(**request)
    job = sm.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert {m["MetricName"] for m in job["FinalMetricDataList"]} >= {"train:accuracy", "validation:accuracy"}


def test_missing_lst_channel_fails_the_job_with_a_client_error():
    bucket = sagemaker.Session().default_bucket()
    prefix = unique("ic-bad")
    upload_sample(bucket, prefix, {"train/a.jpg": SAMPLE / "images" / "train" / "001.zero" / "001_0001.jpg"})
    name = unique("ic-bad")
    request = training_job_request(name, bucket, {k: str(v) for k, v in SETTINGS.items()}, IMAGE,
                                   {"train": f"s3://{bucket}/{prefix}/train/", "validation": f"s3://{bucket}/{prefix}/train/"})
    request["ResourceConfig"]["InstanceType"] = "ml.p3.2xlarge"
    for channel in request["InputDataConfig"]:
        channel["ContentType"] = "application/x-image"
    request["ResourceConfig"]["InstanceType"] = "ml.p3.2xlarge"  # the algorithm trains on GPU instances only
    sm = client("sagemaker")
    sm.create_training_job(**request)
    job = sm.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError") and "train_lst" in job["FailureReason"]


def test_fit_deploy_predict_transform_with_the_sdk():
    session = sagemaker.Session()
    bucket, prefix = session.default_bucket(), unique("ic-sdk")
    tests = {f"test/{i}.jpg": image for i, (_, image) in enumerate(val_images()[::10])}
    upload_sample(bucket, prefix, {"train/train.rec": SAMPLE / "train.rec", "validation/val.rec": SAMPLE / "val.rec"})
    for key, image in tests.items():
        client("s3").put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=image)
    estimator = Estimator(image_uris.retrieve("image-classification", session.boto_region_name),
                          os.environ["SAGEMAKER_ROLE_ARN"], instance_count=1, instance_type="ml.p3.2xlarge",
                          sagemaker_session=session, output_path=f"s3://{bucket}/{prefix}/output")
    estimator.set_hyperparameters(**{**SETTINGS, "epochs": 3})  # learning is asserted above; here the plumbing
    estimator.fit({name: TrainingInput(f"s3://{bucket}/{prefix}/{name}/", content_type="application/x-recordio")
                   for name in ("train", "validation")}, logs=False)
    final = {m["MetricName"]: m["Value"] for m in
             session.describe_training_job(estimator.latest_training_job.name)["FinalMetricDataList"]}
    assert set(final) >= {"train:accuracy", "validation:accuracy"}

    transformer = estimator.transformer(1, "ml.m5.large", output_path=f"s3://{bucket}/{prefix}/predictions")
    transformer.transform(f"s3://{bucket}/{prefix}/test/", content_type="application/x-image", split_type="None")
    out = sagemaker.s3.S3Downloader.read_file(f"{transformer.output_path}/0.jpg.out", session)
    assert len(json.loads(out)["prediction"]) == 10

    predictor = estimator.deploy(1, "ml.m5.large", serializer=IdentitySerializer("image/jpeg"))
    probabilities = json.loads(predictor.predict(tests["test/0.jpg"]))
    assert len(probabilities) == 10 and np.isclose(sum(probabilities), 1, atol=1e-4)
    predictor.delete_model()
    predictor.delete_endpoint()
    session.delete_model(transformer.model_name)


def test_training_on_a_cpu_instance_is_refused_at_create_as_aws_refuses_it():
    """aws/amazon-sagemaker-examples#1951: ValidationException from CreateTrainingJob itself."""
    request = training_job_request(unique("ic-cpu"), "sagemaker-any", {k: str(v) for k, v in SETTINGS.items()},
                                   IMAGE, {"train": "s3://sagemaker-any/train/", "validation": "s3://sagemaker-any/v/"})
    request["ResourceConfig"]["InstanceType"] = "ml.c5.2xlarge"
    with pytest.raises(AwsClientError) as err:
        client("sagemaker").create_training_job(**request)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["Error"]["Message"] == ("Instance type ml.c5.2xlarge is not supported by algorithm "
                                                      "image-classification; only GPU instances are supported.")
