"""SageMaker's JSON-protocol operations: request parameters in, response dicts out.

Method names are the operations in snake_case (CreateTrainingJob -> create_training_job);
`localaws.protocol.JsonProtocolService` has already checked the request against
botocore's input shape when one of these runs.
"""
from __future__ import annotations

import copy
import datetime as dt
from typing import Callable

from ..protocol import AwsError, token_page
from .exceptions import invalid
from .models import SageMakerBackend


def _page(items: list[dict], params: dict, key: str, unique: str, default_max: int = 10) -> dict:
    """A List* page (default 10 items, as SageMaker's List* calls default MaxResults)."""
    page, token = token_page(items, params, default_max, unique)
    return {key: page, **({"NextToken": token} if token else {})}


def _as_time(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromtimestamp(float(value), dt.timezone.utc)


def _select(resources: list[dict], params: dict, name_key: str, status_key: str | None) -> list[dict]:
    """Apply the filters and sort order every SageMaker List* call shares."""
    found = []
    for r in resources:
        if params.get("NameContains") and params["NameContains"].lower() not in r[name_key].lower():
            continue
        if status_key and params.get("StatusEquals") and r.get(status_key) != params["StatusEquals"]:
            continue
        if params.get("CreationTimeAfter") and r["CreationTime"] <= _as_time(params["CreationTimeAfter"]):
            continue
        if params.get("CreationTimeBefore") and r["CreationTime"] >= _as_time(params["CreationTimeBefore"]):
            continue
        found.append(r)
    sort_by = params.get("SortBy", "CreationTime")
    field = {"Name": name_key, "Status": status_key}.get(sort_by, "CreationTime")
    return sorted(found, key=lambda r: r.get(field) or "", reverse=params.get("SortOrder", "Descending") == "Descending")


def _summaries(resources: list[dict], keys: tuple[str, ...]) -> list[dict]:
    return [{k: r[k] for k in keys if k in r} for r in resources]


class SageMakerResponses:
    def __init__(self, backend: SageMakerBackend):
        self.backend = backend

    def _describe(self, get: Callable[[str], dict], name: str) -> dict:
        with self.backend.lock:
            return copy.deepcopy(get(name))

    # ---------------------------------------------------------------- training jobs
    def create_training_job(self, p, region):
        return self.backend.create_training_job(p, region)

    def describe_training_job(self, p, region):
        return self._describe(self.backend.training_job, p["TrainingJobName"])

    def stop_training_job(self, p, region):
        self.backend.stop_training_job(p["TrainingJobName"])

    def list_training_jobs(self, p, region):
        jobs = _select(list(self.backend.training_jobs.values()), p, "TrainingJobName", "TrainingJobStatus")
        keys = ("TrainingJobName", "TrainingJobArn", "CreationTime", "TrainingEndTime",
                "LastModifiedTime", "TrainingJobStatus", "SecondaryStatus")
        return _page(_summaries(jobs, keys), p, "TrainingJobSummaries", "TrainingJobArn")

    # ---------------------------------------------------------------- models
    def create_model(self, p, region):
        return self.backend.create_model(p, region)

    def describe_model(self, p, region):
        return self._describe(self.backend.model, p["ModelName"])

    def delete_model(self, p, region):
        self.backend.delete_model(p["ModelName"])

    def list_models(self, p, region):
        models = _select(list(self.backend.models.values()), p, "ModelName", None)
        return _page(_summaries(models, ("ModelName", "ModelArn", "CreationTime")), p, "Models", "ModelArn")

    # ---------------------------------------------------------------- endpoint configs
    def create_endpoint_config(self, p, region):
        return self.backend.create_endpoint_config(p, region)

    def describe_endpoint_config(self, p, region):
        return self._describe(self.backend.endpoint_config, p["EndpointConfigName"])

    def delete_endpoint_config(self, p, region):
        self.backend.delete_endpoint_config(p["EndpointConfigName"])

    def list_endpoint_configs(self, p, region):
        configs = _select(list(self.backend.endpoint_configs.values()), p, "EndpointConfigName", None)
        keys = ("EndpointConfigName", "EndpointConfigArn", "CreationTime")
        return _page(_summaries(configs, keys), p, "EndpointConfigs", "EndpointConfigArn")

    # ---------------------------------------------------------------- endpoints
    def create_endpoint(self, p, region):
        return self.backend.create_endpoint(p, region)

    def describe_endpoint(self, p, region):
        return self._describe(self.backend.endpoint, p["EndpointName"])

    def delete_endpoint(self, p, region):
        self.backend.delete_endpoint(p["EndpointName"])

    def list_endpoints(self, p, region):
        endpoints = _select(list(self.backend.endpoints.values()), p, "EndpointName", "EndpointStatus")
        keys = ("EndpointName", "EndpointArn", "CreationTime", "LastModifiedTime", "EndpointStatus")
        return _page(_summaries(endpoints, keys), p, "Endpoints", "EndpointArn")

    # ---------------------------------------------------------------- transform jobs
    def create_transform_job(self, p, region):
        return self.backend.create_transform_job(p, region)

    def describe_transform_job(self, p, region):
        return self._describe(self.backend.transform_job, p["TransformJobName"])

    def list_transform_jobs(self, p, region):
        jobs = _select(list(self.backend.transform_jobs.values()), p, "TransformJobName", "TransformJobStatus")
        keys = ("TransformJobName", "TransformJobArn", "CreationTime", "TransformEndTime",
                "TransformJobStatus", "FailureReason")
        # DescribeTransformJob has no LastModifiedTime; its summary does: the job's last change
        summaries = [{**summary, "LastModifiedTime": job.get("TransformEndTime") or job.get("TransformStartTime")
                      or job["CreationTime"]} for summary, job in zip(_summaries(jobs, keys), jobs)]
        return _page(summaries, p, "TransformJobSummaries", "TransformJobArn")

    # ---------------------------------------------------------------- tuning jobs
    def create_hyper_parameter_tuning_job(self, p, region):
        return self.backend.create_hyper_parameter_tuning_job(p, region)

    def describe_hyper_parameter_tuning_job(self, p, region):
        return self._describe(self.backend.tuning_job, p["HyperParameterTuningJobName"])

    def stop_hyper_parameter_tuning_job(self, p, region):
        self.backend.stop_hyper_parameter_tuning_job(p["HyperParameterTuningJobName"])

    def list_hyper_parameter_tuning_jobs(self, p, region):
        jobs = _select(list(self.backend.tuning_jobs.values()), p, "HyperParameterTuningJobName",
                       "HyperParameterTuningJobStatus")
        summaries = [{**_summaries([j], ("HyperParameterTuningJobName", "HyperParameterTuningJobArn",
                                         "HyperParameterTuningJobStatus", "CreationTime", "HyperParameterTuningEndTime",
                                         "LastModifiedTime", "TrainingJobStatusCounters", "ObjectiveStatusCounters"))[0],
                      "Strategy": j["HyperParameterTuningJobConfig"]["Strategy"],
                      "ResourceLimits": j["HyperParameterTuningJobConfig"]["ResourceLimits"]} for j in jobs]
        return _page(copy.deepcopy(summaries), p, "HyperParameterTuningJobSummaries", "HyperParameterTuningJobArn")

    def list_training_jobs_for_hyper_parameter_tuning_job(self, p, region):
        name = p["HyperParameterTuningJobName"]
        self.backend.tuning_job(name)
        with self.backend.lock:
            trials = copy.deepcopy(self.backend.tuning_trials[name])
        if p.get("StatusEquals"):
            trials = [t for t in trials if t["TrainingJobStatus"] == p["StatusEquals"]]
        sort_by = p.get("SortBy", "Name")
        if sort_by == "FinalObjectiveMetricValue":
            key = lambda t: t.get("FinalHyperParameterTuningJobObjectiveMetric", {}).get("Value", float("-inf"))  # noqa: E731
        else:
            field = {"Name": "TrainingJobName", "Status": "TrainingJobStatus"}.get(sort_by, "CreationTime")
            key = lambda t: t[field]  # noqa: E731
        trials.sort(key=key, reverse=p.get("SortOrder", "Descending") == "Descending")
        return _page(trials, p, "TrainingJobSummaries", "TrainingJobArn")

    # ---------------------------------------------------------------- model monitoring
    def list_monitoring_schedules(self, p, region):
        """Model Monitor is not emulated, so no schedule can exist: the empty list is the true
        answer (SDK cleanup helpers list schedules before deleting an endpoint)."""
        return {"MonitoringScheduleSummaries": []}

    def describe_monitoring_schedule(self, p, region):
        raise AwsError("ResourceNotFound", f"Monitoring Schedule {p['MonitoringScheduleName']} not found.")

    # ---------------------------------------------------------------- tags
    def _existing(self, resource_arn: str) -> str:
        """Tags belong to a resource that exists: AddTags and ListTags on a deleted one are a
        ValidationException (aws/amazon-sagemaker-feedback#108)."""
        if not self.backend.exists(resource_arn):
            raise invalid(f"Resource {resource_arn} does not exist.")
        return resource_arn

    def add_tags(self, p, region):
        self.backend._tag(self._existing(p["ResourceArn"]), p["Tags"])
        return {"Tags": p["Tags"]}

    def list_tags(self, p, region):
        return _page(self.backend.tags_of(self._existing(p["ResourceArn"])), p, "Tags", "Key", default_max=50)

    def delete_tags(self, p, region):
        self.backend.untag(self._existing(p["ResourceArn"]), p["TagKeys"])
