"""Rekognition through boto3: faces and labels computed from the image, AWS's errors for bad images."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from tests.helpers import client, make_bucket

IMAGES = Path(__file__).resolve().parent.parent / "data" / "samples" / "rekognition_images"


@pytest.fixture(scope="module")
def rekognition():
    return client("rekognition")


@pytest.fixture(scope="module")
def bucket():
    s3 = client("s3")
    name = make_bucket(s3)
    for path in IMAGES.glob("*.jpg"):
        s3.upload_file(str(path), name, f"images/{path.name}")
    return name


def image_bytes(pixels: np.ndarray, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=kind)
    return out.getvalue()


def inside(point: dict, box: dict) -> bool:
    return (box["Left"] <= point["X"] <= box["Left"] + box["Width"]
            and box["Top"] <= point["Y"] <= box["Top"] + box["Height"])


def test_detect_faces_finds_each_face_with_landmarks_inside_its_box(rekognition, bucket):
    crew = rekognition.detect_faces(Image={"S3Object": {"Bucket": bucket, "Name": "images/crew.jpg"}},
                                    Attributes=["ALL"])["FaceDetails"]
    assert len(crew) == 2
    lefts = sorted(face["BoundingBox"]["Left"] for face in crew)
    assert lefts[0] < 0.5 < lefts[1], "one face in each half of the picture"
    for face in crew:
        assert face["Confidence"] > 90
        assert [m["Type"] for m in face["Landmarks"]] == ["eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight"]
        assert all(inside(m, face["BoundingBox"]) for m in face["Landmarks"])
        assert 0 <= face["Quality"]["Brightness"] <= 100 and 0 <= face["Quality"]["Sharpness"] <= 100
    coffee = rekognition.detect_faces(Image={"Bytes": (IMAGES / "coffee.jpg").read_bytes()})
    assert coffee["FaceDetails"] == []


def test_pose_roll_follows_a_rotated_face(rekognition):
    photo = Image.open(IMAGES / "astronaut.jpg")
    upright = rekognition.detect_faces(Image={"Bytes": image_bytes(np.asarray(photo))})["FaceDetails"][0]
    # turned 20 degrees counter-clockwise about the face: the subject's left eye (image right) rises
    tilted_photo = photo.rotate(20, center=(224, 120), resample=Image.BICUBIC)
    tilted = rekognition.detect_faces(Image={"Bytes": image_bytes(np.asarray(tilted_photo))})["FaceDetails"][0]
    assert -30 < tilted["Pose"]["Roll"] - upright["Pose"]["Roll"] < -10


def test_detect_labels_names_people_with_an_instance_per_person(rekognition, bucket):
    response = rekognition.detect_labels(Image={"S3Object": {"Bucket": bucket, "Name": "images/crew.jpg"}},
                                         MaxLabels=5, MinConfidence=90)
    labels = {label["Name"]: label for label in response["Labels"]}
    assert "Person" in labels and len(labels["Person"]["Instances"]) == 2
    assert {"Name": "Person"} in labels["Face"]["Parents"]
    assert len(rekognition.detect_labels(Image={"S3Object": {"Bucket": bucket, "Name": "images/crew.jpg"}},
                                         MaxLabels=1)["Labels"]) == 1
    coffee = rekognition.detect_labels(Image={"S3Object": {"Bucket": bucket, "Name": "images/coffee.jpg"}})
    assert "Person" not in {label["Name"] for label in coffee["Labels"]}


def test_image_properties_are_computed_from_the_pixels(rekognition):
    pixels = np.zeros((120, 200, 3), dtype=np.uint8)
    pixels[:, :150] = (220, 20, 20)  # three quarters red
    pixels[:, 150:] = (20, 40, 220)  # one quarter blue
    response = rekognition.detect_labels(Image={"Bytes": image_bytes(pixels)}, Features=["IMAGE_PROPERTIES"],
                                         Settings={"ImageProperties": {"MaxDominantColors": 2}})
    colours = response["ImageProperties"]["DominantColors"]
    assert [c["SimplifiedColor"] for c in colours] == ["red", "blue"]
    assert colours[0]["PixelPercent"] == pytest.approx(75, abs=2)
    assert colours[0]["HexCode"] == "#dc1414"
    assert "Labels" not in response


@pytest.mark.parametrize("image, code", [
    ({"Bytes": b"GIF89a not a jpeg or png"}, "InvalidImageFormatException"),
    ({"Bytes": b"\xff\xd8\xff" + b"0" * 100}, "InvalidImageFormatException"),  # JPEG header, no picture
    ({"Bytes": b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024)}, "ImageTooLargeException"),
    ({"S3Object": {"Bucket": "no-such-bucket-here", "Name": "x.jpg"}}, "InvalidS3ObjectException"),
    ({"Bytes": image_bytes(np.zeros((40, 40, 3), dtype=np.uint8))}, "InvalidParameterException"),
])
def test_bad_images_get_aws_error_codes(rekognition, image, code):
    with pytest.raises(ClientError) as err:
        rekognition.detect_faces(Image=image)
    assert err.value.response["Error"]["Code"] == code


def test_operations_without_an_offline_model_say_so(rekognition):
    with pytest.raises(ClientError) as err:
        rekognition.detect_text(Image={"Bytes": (IMAGES / "coffee.jpg").read_bytes()})
    assert err.value.response["Error"]["Code"] == "UnknownOperationException"
    assert "localaws cannot compute DetectText" in err.value.response["Error"]["Message"]
