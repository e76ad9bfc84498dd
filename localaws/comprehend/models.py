"""Comprehend's state: custom document classifiers and the classification jobs that use them.

A classifier trains from its S3 CSV on a thread (SUBMITTED -> TRAINING -> TRAINED, or
IN_ERROR with a Message); a job reads documents from S3 and writes `output.tar.gz` holding
`predictions.jsonl` (SUBMITTED -> IN_PROGRESS -> COMPLETED or FAILED). Both return from
their Create/Start call once finished when that takes less than `sync_seconds`, so a
notebook's polling loop finds them done at the first look.
"""
from __future__ import annotations

import io
import json
import posixpath
import tarfile
import threading
import uuid
from typing import Callable

from ..emulator import ACCOUNT
from ..sagemaker.resources import now, run_and_wait
from ..storage import S3, split_s3_uri
from . import classifier as engine
from .exceptions import in_use, invalid_request, job_not_found, not_found, unavailable

UNFINISHED = ("SUBMITTED", "TRAINING", "STOP_REQUESTED")


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _output_uri(prefix: str, kind: str, token: str) -> str:
    """Where AWS puts a resource's output: <prefix>/<account>-<kind>-<id>/output/output.tar.gz."""
    split_s3_uri(prefix)  # a ValidationException for anything but s3://
    return posixpath.join(prefix.rstrip("/"), f"{ACCOUNT}-{kind}-{token}", "output", "output.tar.gz")


class ComprehendBackend:
    def __init__(self, s3: S3, sync_seconds: float = 50.0):
        self.s3, self.sync_seconds = s3, sync_seconds
        self.lock = threading.RLock()
        self.classifiers: dict[str, dict] = {}  # ARN -> DocumentClassifierProperties
        self.trained: dict[str, object] = {}  # ARN -> fitted model
        self.jobs: dict[str, dict] = {}  # JobId -> DocumentClassificationJobProperties

    # -- classifiers -------------------------------------------------------------------

    def create_classifier(self, p: dict, region: str) -> str:
        name, version = p["DocumentClassifierName"], p.get("VersionName")
        arn = f"arn:aws:comprehend:{region}:{ACCOUNT}:document-classifier/{name}"
        arn += f"/version/{version}" if version else ""
        data = p["InputDataConfig"]
        if data.get("DataFormat", "COMPREHEND_CSV") != "COMPREHEND_CSV" or "S3Uri" not in data:
            raise invalid_request("localaws trains from a COMPREHEND_CSV file given by InputDataConfig.S3Uri")
        if p.get("Mode", "MULTI_CLASS") != "MULTI_CLASS":
            raise invalid_request("localaws trains MULTI_CLASS classifiers only")
        split_s3_uri(data["S3Uri"])
        with self.lock:
            if arn in self.classifiers:
                raise in_use(f"Document classifier {name} already exists")
            props = {"DocumentClassifierArn": arn, "LanguageCode": p["LanguageCode"], "Status": "SUBMITTED",
                     "SubmitTime": now(), "InputDataConfig": {"DataFormat": "COMPREHEND_CSV", **data},
                     "DataAccessRoleArn": p["DataAccessRoleArn"], "Mode": "MULTI_CLASS"}
            if version:
                props["VersionName"] = version
            if "OutputDataConfig" in p:
                token = uuid.uuid4().hex
                props["OutputDataConfig"] = {**p["OutputDataConfig"],
                                             "S3Uri": _output_uri(p["OutputDataConfig"]["S3Uri"], "CLR", token)}
            self.classifiers[arn] = props
        run_and_wait(lambda: self._train(props), self.sync_seconds, f"comprehend-train-{name}")
        return arn

    def _train(self, props: dict) -> None:
        props["Status"], props["TrainingStartTime"] = "TRAINING", now()
        data = props["InputDataConfig"]
        try:
            test = self.s3.read(data["TestS3Uri"]) if data.get("TestS3Uri") else None
            trained = engine.train(self._read_all(data["S3Uri"]), test)
            if "OutputDataConfig" in props:
                confusion = json.dumps(trained.confusion).encode()
                self.s3.write(props["OutputDataConfig"]["S3Uri"],
                              tar_gz({"output/confusion_matrix.json": confusion}))
        except (engine.TrainingDataError, FileNotFoundError, UnicodeDecodeError) as err:
            props.update(Status="IN_ERROR", Message=str(err), EndTime=now())
            return
        except Exception as err:  # an engine failure: report it, as AWS would, on the resource
            props.update(Status="IN_ERROR", Message=f"Internal error: {type(err).__name__}: {err}", EndTime=now())
            return
        with self.lock:
            self.trained[props["DocumentClassifierArn"]] = trained.model
        stamp = now()
        props.update(Status="TRAINED", ClassifierMetadata=trained.metadata, TrainingEndTime=stamp, EndTime=stamp)

    def _read_all(self, uri: str) -> bytes:
        """One file, or every object under a prefix, concatenated."""
        keys = self.s3.keys_under(uri)
        if not keys:
            raise FileNotFoundError(f"No training data found at {uri}")
        return b"\n".join(self.s3.read(f"s3://{bucket}/{key}").rstrip(b"\n") for bucket, key in keys)

    def classifier(self, arn: str) -> dict:
        with self.lock:
            if arn not in self.classifiers:
                raise not_found(f"RESOURCE_NOT_FOUND: Could not find specified resource {arn}")
            return self.classifiers[arn]

    def list_classifiers(self, flt: dict) -> list[dict]:
        with self.lock:
            found = list(self.classifiers.values())
        return _filtered(found, flt, {"Status": lambda c: c["Status"],
                                      "DocumentClassifierName": lambda c: c["DocumentClassifierArn"].split("/")[1]})

    def delete_classifier(self, arn: str) -> None:
        with self.lock:
            if self.classifier(arn)["Status"] in UNFINISHED:
                raise in_use(f"Document classifier {arn} is still training; stop it first")
            del self.classifiers[arn]
            self.trained.pop(arn, None)

    # -- classification jobs -----------------------------------------------------------

    def start_job(self, p: dict, region: str) -> dict:
        arn = p.get("DocumentClassifierArn")
        if not arn:
            raise invalid_request("localaws needs a DocumentClassifierArn (flywheels are not emulated)")
        if self.classifier(arn)["Status"] != "TRAINED":
            raise unavailable(f"The classifier {arn} is not in the TRAINED state")
        split_s3_uri(p["InputDataConfig"]["S3Uri"])
        job_id = uuid.uuid4().hex
        job = {"JobId": job_id, "JobArn": f"arn:aws:comprehend:{region}:{ACCOUNT}:document-classification-job/{job_id}",
               "JobStatus": "SUBMITTED", "SubmitTime": now(), "DocumentClassifierArn": arn,
               "InputDataConfig": {"InputFormat": "ONE_DOC_PER_FILE", **p["InputDataConfig"]},
               "OutputDataConfig": {**p["OutputDataConfig"],
                                    "S3Uri": _output_uri(p["OutputDataConfig"]["S3Uri"], "CLN", job_id)},
               "DataAccessRoleArn": p["DataAccessRoleArn"]}
        if "JobName" in p:
            job["JobName"] = p["JobName"]
        with self.lock:
            self.jobs[job_id] = job
        run_and_wait(lambda: self._classify(job), self.sync_seconds, f"comprehend-job-{job_id[:8]}")
        return job

    def _classify(self, job: dict) -> None:
        job["JobStatus"] = "IN_PROGRESS"
        try:
            records = self._documents(job["InputDataConfig"])
            with self.lock:
                model = self.trained[job["DocumentClassifierArn"]]
            classes = engine.classify(model, [text for _, text in records])
            lines = [json.dumps({**where, "Classes": found}) for (where, _), found in zip(records, classes)]
            self.s3.write(job["OutputDataConfig"]["S3Uri"],
                          tar_gz({"predictions.jsonl": ("\n".join(lines) + "\n").encode()}))
        except (FileNotFoundError, UnicodeDecodeError, KeyError) as err:
            job.update(JobStatus="FAILED", Message=str(err), EndTime=now())
            return
        job.update(JobStatus="COMPLETED", EndTime=now())

    def _documents(self, config: dict) -> list[tuple[dict, str]]:
        """(where, text) of every document: a line of a file, or a whole file."""
        keys = self.s3.keys_under(config["S3Uri"])
        if not keys:
            raise FileNotFoundError(f"No input documents found at {config['S3Uri']}")
        records = []
        for bucket, key in keys:
            text = self.s3.read(f"s3://{bucket}/{key}").decode("utf-8-sig")
            name = posixpath.basename(key)
            if config["InputFormat"] == "ONE_DOC_PER_LINE":
                records += [({"File": name, "Line": str(i)}, line)
                            for i, line in enumerate(text.splitlines()) if line.strip()]
            elif text.strip():
                records.append(({"File": name}, text))
        return records

    def job(self, job_id: str) -> dict:
        with self.lock:
            if job_id not in self.jobs:
                raise job_not_found(job_id)
            return self.jobs[job_id]

    def list_jobs(self, flt: dict) -> list[dict]:
        with self.lock:
            found = list(self.jobs.values())
        return _filtered(found, flt, {"JobStatus": lambda j: j["JobStatus"], "JobName": lambda j: j.get("JobName")})

    # -- what a notebook must delete -------------------------------------------------------

    def leftovers(self) -> dict[str, list[str]]:
        with self.lock:
            return {"document classifiers": sorted(self.classifiers)}

    def clear_leftovers(self) -> None:
        with self.lock:
            self.classifiers.clear()
            self.trained.clear()


def _filtered(found: list[dict], flt: dict, fields: dict[str, Callable[[dict], str | None]]) -> list[dict]:
    """The resources that match a List* Filter (equal fields, submitted in the time window),
    oldest first."""
    for name, value_of in fields.items():
        if name in flt:
            found = [r for r in found if value_of(r) == flt[name]]
    if "SubmitTimeBefore" in flt:
        found = [r for r in found if r["SubmitTime"].timestamp() < _seconds(flt["SubmitTimeBefore"])]
    if "SubmitTimeAfter" in flt:
        found = [r for r in found if r["SubmitTime"].timestamp() > _seconds(flt["SubmitTimeAfter"])]
    return sorted(found, key=lambda r: r["SubmitTime"])


def _seconds(value) -> float:
    """A timestamp from the wire: epoch seconds (JSON) or a datetime (CBOR)."""
    return value.timestamp() if hasattr(value, "timestamp") else float(value)
