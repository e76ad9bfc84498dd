"""What every SageMaker resource kind shares: names and ARNs, the clock, background work,
and how a failure and a job's metrics are reported."""
from __future__ import annotations

import datetime as dt
import re
import tarfile
import threading
from pathlib import Path
from typing import Callable, Iterable

from .algorithms.base import ClientError

ACCOUNT = "123456789012"  # moto's default account, so ARNs agree across services
TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
TRANSFORM_LOG_GROUP = "/aws/sagemaker/TransformJobs"
ENDPOINT_LOG_GROUP = "/aws/sagemaker/Endpoints"


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def arn(region: str, kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:{region}:{ACCOUNT}:{kind}/{name.lower()}"


def run_and_wait(work: Callable[[], None], wait_seconds: float, name: str,
                 workers: set | None = None) -> None:
    """Run `work` on a thread; return when it is done or after `wait_seconds`. `workers`, if
    given, holds the thread while it runs (so a shutdown can wait for it)."""
    def tracked() -> None:
        try:
            work()
        finally:
            if workers is not None:
                workers.discard(thread)

    thread = threading.Thread(target=tracked, name=name, daemon=True)
    if workers is not None:
        workers.add(thread)
    thread.start()
    thread.join(wait_seconds)


def failure_reason(err: BaseException) -> str:
    if getattr(err, "failure_reason", None):  # the container's own words (script mode's /opt/ml/output/failure)
        return err.failure_reason
    if isinstance(err, ClientError):
        return f"ClientError: {err}"
    if isinstance(err, FileNotFoundError):
        return f"ClientError: Data download failed: {err}"
    return f"AlgorithmError: {type(err).__name__}: {err}"


def tar_directory(directory: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        for item in sorted(directory.iterdir()):
            tar.add(item, arcname=item.name)
    return archive


def metrics_from_log(definitions: list[dict] | None, lines: list[str]) -> dict[str, float]:
    """Metrics by the job's own MetricDefinitions regexes, as SageMaker scrapes them from the
    log (the last match of each wins)."""
    found = {}
    for definition in definitions or []:
        pattern = re.compile(definition["Regex"])
        for line in lines:
            match = pattern.search(line)
            if match:
                try:
                    found[definition["Name"]] = float(match.group(1))
                except (IndexError, ValueError):
                    pass
    return found


def instances_in_use(jobs: Iterable[dict], status_key: str, resources_key: str, instance_type: str) -> int:
    """Instances of a type that running jobs hold (for the quotas)."""
    return sum(j[resources_key].get("InstanceCount", 1) for j in list(jobs)
               if j.get(status_key) in ("InProgress", "Stopping")
               and j[resources_key].get("InstanceType") == instance_type)
