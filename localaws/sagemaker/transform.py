"""Batch transform: send every input object's records through the model, write `.out` files.

As on AWS: `SplitType=Line` cuts each object into lines; `BatchStrategy=MultiRecord` packs
as many records per request as fit in `MaxPayloadInMB`, `SingleRecord` sends one; the
answers are joined (one per line with `AssembleWith=Line`) into `<S3OutputPath>/<key>.out`;
DataProcessing (dataprocessing.py) filters what goes in and out and joins input to output.
"""
from __future__ import annotations

from typing import Iterator

from ..storage import S3
from .algorithms import recordio
from .algorithms.base import ClientError
from .dataprocessing import DataProcessing

MB = 1024 * 1024


def batches(records: list[bytes], strategy: str, max_bytes: int) -> Iterator[list[bytes]]:
    if strategy == "SingleRecord":
        yield from ([r] for r in records)
        return
    batch, size = [], 0
    for record in records:
        if batch and max_bytes and size + len(record) + 1 > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += len(record) + 1
    if batch:
        yield batch


def split(data: bytes, split_type: str) -> list[bytes]:
    """An input object's records: its lines, RecordIO records (each kept in its RecordIO
    framing, as SageMaker hands records on), or the whole object. TFRecord is not emulated."""
    if split_type == "Line":
        return [line for line in data.splitlines() if line.strip()]
    if split_type == "RecordIO":
        try:
            return [recordio.encode_record(payload) for payload in recordio.iter_records(data)]
        except ValueError as err:
            raise ClientError(f"the input is not RecordIO: {err}") from None
    if split_type == "None":
        return [data]
    raise ClientError(f"SplitType {split_type} is not emulated offline (use Line, RecordIO or None)")


def run(job: dict, s3: S3, model, log) -> None:
    source = job["TransformInput"]["DataSource"]["S3DataSource"]
    if source.get("S3DataType", "S3Prefix") != "S3Prefix":
        raise ClientError("only S3Prefix transform input is emulated offline")
    content_type = job["TransformInput"].get("ContentType")
    accept = job["TransformOutput"].get("Accept") or model.default_accept
    processing = DataProcessing(job.get("DataProcessing"), content_type, accept)
    if processing.active and job["TransformInput"]["SplitType"] != "Line":
        raise ClientError("DataProcessing filters and JoinSource need SplitType=Line offline")
    assemble = job["TransformOutput"]["AssembleWith"]
    output = job["TransformOutput"]["S3OutputPath"].rstrip("/")
    max_bytes = int(job.get("MaxPayloadInMB", 6)) * MB
    prefix = source["S3Uri"].split("/", 3)[3] if source["S3Uri"].count("/") >= 3 else ""
    keys = s3.keys_under(source["S3Uri"])
    if not keys:
        raise FileNotFoundError(f"no objects under {source['S3Uri']}")
    for bucket, key in keys:
        records = split(s3.read(f"s3://{bucket}/{key}"), job["TransformInput"]["SplitType"])
        answers = []
        for batch in batches(records, job["BatchStrategy"], max_bytes):
            joiner = b"" if job["TransformInput"]["SplitType"] == "RecordIO" else b"\n"  # framed records concatenate
            body, _ = model.predict(joiner.join(processing.model_input(batch)), content_type, accept)
            answers.append(b"\n".join(processing.outputs(batch, body)) if processing.active else body)
        if assemble == "Line":
            result = b"".join(a if a.endswith(b"\n") else a + b"\n" for a in answers)
        else:
            result = b"".join(answers)
        name = key[len(prefix):].lstrip("/") or key.rsplit("/", 1)[-1]
        s3.write(f"{output}/{name}.out", result)
        log(f"[localaws] {key}: {len(records)} record(s) in {len(answers)} request(s) -> {output}/{name}.out")
