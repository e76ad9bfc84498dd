"""SageMaker's resources and what happens to them: training jobs really train, endpoints
really load their model, transform jobs really predict.

Each resource is kept as the dict its Describe* call returns, updated as it moves through
its statuses. The operations live in one module per resource kind (training_jobs.py,
hosting.py, transform_jobs.py, tuning_jobs.py); SageMakerBackend holds their state, the
lookups, tags and the clock. Jobs run on a worker thread; a Create* call waits for its job
(up to `sync_seconds`) so that with small data it returns a finished job and the SDK's
waiters have nothing to wait for, while a long job simply stays InProgress until it is done.

With `job_seconds` > 0 (`localaws run --job-seconds N`), the realistic clock: Create*
returns at once and every job, endpoint and transform spends at least N seconds in its
first state (InProgress / Creating) before its work, so waiters, `Stopping` and "not
finished yet" paths can be exercised; a stop during that time ends the job Stopped.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

from moto.utilities.tagging_service import TaggingService

from ..storage import S3, Logs
from .algorithms.base import ProcessGroups, Stopped
from .exceptions import invalid, not_found
from .hosting import Hosting, LoadedModel
from .resources import arn
from .training_jobs import TrainingJobs
from .transform_jobs import TransformJobs
from .tuning_jobs import TuningJobs

MAX_TAGS = 50  # per resource: AddTags' Tags list in botocore's model (max 50), AWS's tag limit
# where each table keeps its resources' ARNs
ARN_KEYS = {"training_jobs": "TrainingJobArn", "models": "ModelArn", "endpoint_configs": "EndpointConfigArn",
            "endpoints": "EndpointArn", "transform_jobs": "TransformJobArn",
            "tuning_jobs": "HyperParameterTuningJobArn"}


class SageMakerBackend(TrainingJobs, Hosting, TransformJobs, TuningJobs):
    def __init__(self, s3: S3, logs: Logs, workdir: Path, sync_seconds: float = 50.0, job_seconds: float = 0.0):
        self.s3, self.logs, self.workdir, self.job_seconds = s3, logs, Path(workdir), job_seconds
        self.sync_seconds = 0.0 if job_seconds > 0 else sync_seconds
        self.lock = threading.RLock()
        self.training_jobs: dict[str, dict] = {}
        self.models: dict[str, dict] = {}
        self.endpoint_configs: dict[str, dict] = {}
        self.endpoints: dict[str, dict] = {}
        self.live: dict[str, dict[str, LoadedModel]] = {}  # endpoint -> variant -> model
        self.transform_jobs: dict[str, dict] = {}
        self.tuning_jobs: dict[str, dict] = {}
        self.tuning_trials: dict[str, list[dict]] = {}  # tuning job -> its training job summaries
        self.tagger = TaggingService()  # moto's: Tags as [{"Key", "Value"}], as SageMaker's API has them
        self.stop_requested: set[str] = set()
        self.workers: set[threading.Thread] = set()  # jobs, endpoints and tuning still running
        self.processes = ProcessGroups()  # what this emulator's jobs started (script mode)
        self.closing = False


    def _hold(self, stop_reason: Callable[[], str | None] = lambda: None) -> None:
        """The realistic clock's wait in a resource's first state (no-op by default)."""
        deadline = time.monotonic() + self.job_seconds
        while time.monotonic() < deadline:
            reason = stop_reason() or ("Stopped" if self.closing else None)
            if reason:
                raise Stopped(reason)
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def shutdown(self, seconds: float = 0.5) -> None:
        """The emulator is stopping: every running job is told to end, the processes jobs
        started get SIGTERM, then SIGKILL a second later, so nothing outlives the emulator.
        In-process work (xgboost rounds, Keras epochs) ends with the process; jobs get up to
        `seconds` to record their Stopped status first."""
        self.closing = True
        self.processes.end_all(grace=1.0)
        deadline = time.monotonic() + seconds
        for worker in list(self.workers):
            worker.join(max(0.0, deadline - time.monotonic()))

    # ------------------------------------------------------------ lookups
    @staticmethod
    def _get(table: dict, name: str, message: str) -> dict:
        try:
            return table[name]
        except KeyError:
            raise not_found(message) from None

    def training_job(self, name: str) -> dict:
        return self._get(self.training_jobs, name, "Requested resource not found.")

    def model(self, name: str) -> dict:
        return self._get(self.models, name, f"Could not find model \"{arn('us-east-1', 'model', name)}\".")

    def endpoint_config(self, name: str) -> dict:
        return self._get(self.endpoint_configs, name, f"Could not find endpoint configuration \"{name}\".")

    def endpoint(self, name: str) -> dict:
        return self._get(self.endpoints, name, f"Could not find endpoint \"{name}\".")

    def transform_job(self, name: str) -> dict:
        return self._get(self.transform_jobs, name, "Requested resource not found.")

    def tuning_job(self, name: str) -> dict:
        return self._get(self.tuning_jobs, name, f"Amazon SageMaker can't find a tuning job named {name}.")

    def _insert(self, table: dict, name: str, resource: dict, arn_key: str, tags: list[dict] | None,
                taken) -> None:
        """Add a created resource: its name must be free (else the error `taken` is raised) and
        its tags valid, both checked before it exists. Callers holding the lock for a quota
        check keep holding it (the lock is re-entrant)."""
        with self.lock:
            if name in table:
                raise taken
            self._tag(resource[arn_key], tags)
            table[name] = resource

    def _request_stop(self, job: dict, status_key: str, name: str, what: str) -> None:
        """StopTrainingJob / StopHyperParameterTuningJob: only an InProgress job can stop."""
        if job[status_key] != "InProgress":
            raise invalid(f"The {what} status is {job[status_key]}; only an InProgress job can be stopped.")
        self.stop_requested.add(name)
        job[status_key] = "Stopping"

    # ------------------------------------------------------------ tags
    def exists(self, resource_arn: str) -> bool:
        """Whether a resource of this emulator has that ARN."""
        with self.lock:
            return any(r.get(key) == resource_arn for table, key in ARN_KEYS.items()
                       for r in getattr(self, table).values())

    def _tag(self, resource_arn: str, tags: list[dict] | None) -> None:
        """Tags given at creation, or by AddTags (which overwrites a key's value). A tag key
        may not start with 'aws:' and a resource holds at most 50 tags (AddTags in the
        SageMaker API reference: "Adds or overwrites one or more tags")."""
        if not tags:
            return
        reserved = [t["Key"] for t in tags if t["Key"].lower().startswith("aws:")]
        if reserved:
            raise invalid(f"Tag keys starting with 'aws:' are reserved for AWS use: {reserved}")
        with self.lock:
            keys = set(self.tagger.get_tag_dict_for_resource(resource_arn)) | {t["Key"] for t in tags}
            if len(keys) > MAX_TAGS:
                raise invalid(f"A resource can have at most {MAX_TAGS} tags; this request would give it {len(keys)}.")
            self.tagger.tag_resource(resource_arn, tags)

    def tags_of(self, resource_arn: str) -> list[dict]:
        with self.lock:
            return self.tagger.list_tags_for_resource(resource_arn)["Tags"]

    def untag(self, resource_arn: str, keys: list[str]) -> None:
        with self.lock:
            self.tagger.untag_resource_using_names(resource_arn, keys)

    def forget_tags(self, resource_arn: str) -> None:
        """A deleted resource's tags go with it."""
        with self.lock:
            self.tagger.delete_all_tags_for_resource(resource_arn)

    # ------------------------------------------------------------ what is still up
    def leftovers(self) -> dict[str, list[str]]:
        """Resources a notebook must delete in its cleanup (the tests check this)."""
        with self.lock:
            return {"endpoints": sorted(self.endpoints), "endpoint configs": sorted(self.endpoint_configs),
                    "models": sorted(self.models)}

    def clear_leftovers(self) -> None:
        with self.lock:
            for name in list(self.endpoints):
                self.delete_endpoint(name)
            for name in list(self.endpoint_configs):
                self.delete_endpoint_config(name)
            for name in list(self.models):
                self.delete_model(name)
