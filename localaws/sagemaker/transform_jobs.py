"""Batch transform jobs: the model is loaded as an endpoint would load it, and transform.py
feeds it the input objects, split and batched as the job asks, writing `<object>.out`."""
from __future__ import annotations

import time
import traceback

from . import quotas, transform
from .algorithms.base import ClientError, Stopped
from .exceptions import in_use
from .hosting import LoadedModel
from .resources import TRANSFORM_LOG_GROUP, arn, failure_reason, instances_in_use, now, run_and_wait


class TransformJobs:
    """The transform-job operations of SageMakerBackend (models.py), which holds the state
    they use: `transform_jobs`, `lock`, `s3`, `logs`, `workdir`."""

    def create_transform_job(self, params: dict, region: str) -> dict:
        name = params["TransformJobName"]
        self.model(params["ModelName"])
        resources = params["TransformResources"]
        created = now()
        job = {"TransformJobName": name, "TransformJobArn": arn(region, "transform-job", name),
               "TransformJobStatus": "InProgress", "ModelName": params["ModelName"],
               "TransformInput": {"SplitType": "None", "CompressionType": "None", **params["TransformInput"]},
               "TransformOutput": {"AssembleWith": "None", "KmsKeyId": "", **params["TransformOutput"]},
               # AWS's defaults when none are given (tests/aws_examples/DescribeTransformJob.json)
               "DataProcessing": {"InputFilter": "$", "OutputFilter": "$", "JoinSource": "None",
                                  **params.get("DataProcessing", {})},
               "TransformResources": params["TransformResources"],
               "BatchStrategy": params.get("BatchStrategy", "MultiRecord"),
               "MaxPayloadInMB": params.get("MaxPayloadInMB", 6),
               "Environment": params.get("Environment", {}), "CreationTime": created}
        for key in ("MaxConcurrentTransforms", "ModelClientConfig", "ExperimentConfig", "DataCaptureConfig"):
            if key in params:
                job[key] = params[key]
        with self.lock:
            quotas.check("transform", resources["InstanceType"], resources.get("InstanceCount", 1),
                         instances_in_use(self.transform_jobs.values(), "TransformJobStatus", "TransformResources",
                                      resources["InstanceType"]))
            self._insert(self.transform_jobs, name, job, "TransformJobArn", params.get("Tags"), in_use(
                f"Transform job names must be unique within an AWS account and region, "
                f"and a transform job with this name already exists ({job['TransformJobArn']})"))
        run_and_wait(lambda: self._transform(job), self.sync_seconds, f"transform-{name}", self.workers)
        return {"TransformJobArn": job["TransformJobArn"]}

    def _transform(self, job: dict) -> None:
        log = self.logs.stream(TRANSFORM_LOG_GROUP, f"{job['TransformJobName']}/i-localaws-{int(time.time())}")
        job["TransformStartTime"] = now()
        model = None
        try:
            batch_environment = {**job["Environment"], "SAGEMAKER_BATCH": "true",
                                 "SAGEMAKER_MAX_PAYLOAD_IN_MB": str(job["MaxPayloadInMB"]),
                                 "SAGEMAKER_BATCH_STRATEGY": job["BatchStrategy"].upper()}
            self._hold()
            model = LoadedModel(self.model(job["ModelName"]), self.s3, self.workdir, batch_environment)
            log(f"[localaws] model {job['ModelName']} loaded ({model.algorithm.__name__})")
            transform.run(job, self.s3, model, log)
            job["TransformJobStatus"] = "Completed"
        except Stopped:  # the emulator stopped during the realistic clock's wait
            job["TransformJobStatus"] = "Stopped"
        except Exception as err:
            job["FailureReason"] = failure_reason(err)
            job["TransformJobStatus"] = "Failed"
            log(job["FailureReason"])
            if not isinstance(err, (ClientError, FileNotFoundError)):
                log(traceback.format_exc())
        finally:
            if model:
                model.close()
            job["TransformEndTime"] = now()
            log.flush()
