"""The image a Rekognition request names: bytes in the request or an S3 object, checked
the way Rekognition checks them (JPEG or PNG, size limits, at least 80 pixels a side)."""
from __future__ import annotations

import base64
import binascii
import io

import numpy as np

from . import exceptions

BYTES_LIMIT_MB, S3_LIMIT_MB = 5, 15
MIN_SIDE = 80
# DetectLabels and DetectModerationLabels take at most 10,000 pixels a side (Rekognition
# Developer Guide, "Guidelines and quotas", set quotas); no maximum is documented for the others.
# botocore documents ImageTooLargeException for "image size or resolution" beyond the limit.
MAX_SIDE = {"DetectLabels": 10_000, "DetectModerationLabels": 10_000}
WORK_SIDE = 1920  # localaws's own bound on the pixels it analyses (not an AWS limit)
SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def load(image: dict, s3, operation: str = "", decode: bool = True) -> np.ndarray | None:
    """An RGB uint8 array of the request's image, after the checks `operation` makes
    (`decode=False`: the checks only, from the image's header)."""
    if "Bytes" in image:
        data = image["Bytes"]
        if isinstance(data, str):  # the JSON protocol sends blobs base64-encoded
            try:
                data = base64.b64decode(data, validate=True)
            except binascii.Error:
                raise exceptions.invalid_format() from None
        limit = BYTES_LIMIT_MB
    elif "S3Object" in image:
        obj = image["S3Object"]
        try:
            data = s3.read(f"s3://{obj.get('Bucket', '')}/{obj.get('Name', '')}")
        except Exception:
            raise exceptions.invalid_s3_object() from None
        limit = S3_LIMIT_MB
    else:
        raise exceptions.invalid_parameter("Image must contain Bytes or S3Object")
    if len(data) > limit * 1024 * 1024:
        raise exceptions.too_large(limit)
    if not data.startswith(SIGNATURES):
        raise exceptions.invalid_format()
    from PIL import Image, ImageOps

    try:
        picture = Image.open(io.BytesIO(data))  # reads the header only
    except Exception:
        raise exceptions.invalid_format() from None
    if min(picture.size) < MIN_SIDE:  # checked before any pixel is decoded
        raise exceptions.invalid_parameter(f"Image is smaller than {MIN_SIDE} pixels on a side")
    if operation in MAX_SIDE and max(picture.size) > MAX_SIDE[operation]:
        raise exceptions.too_many_pixels(operation, MAX_SIDE[operation])
    if not decode:
        return None
    try:
        # A few bytes can declare a huge picture (a 97 KB PNG of 9000 x 9000 took 130 s and
        # 8 GB in face detection): work on at most WORK_SIDE pixels a side. Rekognition's
        # boxes and landmarks are ratios of the image's size, so they do not change; JPEGs
        # are decoded at the reduced size directly.
        picture.draft("RGB", (WORK_SIDE, WORK_SIDE))
        picture = ImageOps.exif_transpose(picture)
        picture.thumbnail((WORK_SIDE, WORK_SIDE))
        pixels = np.asarray(picture.convert("RGB"))
    except Exception:
        raise exceptions.invalid_format() from None
    return pixels
