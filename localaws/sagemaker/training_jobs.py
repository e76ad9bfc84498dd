"""Training jobs: CreateTrainingJob downloads the channels from S3, really trains with the
algorithm's open-source equivalent (or runs the user's script), uploads model.tar.gz, and
records the statuses, metrics and log AWS would show. StopTrainingJob and the job's
MaxRuntimeInSeconds end it early."""
from __future__ import annotations

import json
import tempfile
import time
import traceback
from pathlib import Path

from ..paths import inside
from ..storage import LogStream
from . import algorithms, metric_definitions, quotas
from .algorithms.base import FIRST_PARTY, Channel, ClientError, Stopped, TrainingContext, parse_hyperparameters
from .algorithms.script_mode import is_script_mode
from .exceptions import in_use, invalid
from .resources import (TRAINING_LOG_GROUP, arn, failure_reason, instances_in_use, metrics_from_log, now,
                        run_and_wait, tar_directory)


class TrainingJobs:
    """The training-job operations of SageMakerBackend (models.py), which holds the state
    they use: `training_jobs`, `stop_requested`, `lock`, `s3`, `logs`, `workdir`."""

    def create_training_job(self, params: dict, region: str) -> dict:
        name = params["TrainingJobName"]
        spec = params.get("AlgorithmSpecification") or {}
        if not spec.get("TrainingImage") and not spec.get("AlgorithmName"):
            raise invalid("AlgorithmSpecification must name a TrainingImage or an AlgorithmName.")
        algorithms.check_training_instance(spec.get("TrainingImage") or spec.get("AlgorithmName") or "",
                                           (params.get("ResourceConfig") or {}).get("InstanceType"))
        for channel in params.get("InputDataConfig", []):  # the model's pattern lets "." and ".." through
            if channel.get("ChannelName") in (".", ".."):
                raise invalid(f"ChannelName {channel['ChannelName']!r} is not a valid channel name")
        resources = params.get("ResourceConfig") or {}
        output = params["OutputDataConfig"]["S3OutputPath"].rstrip("/")
        created = now()
        job = {
            "TrainingJobName": name,
            "TrainingJobArn": arn(region, "training-job", name),
            "ModelArtifacts": {"S3ModelArtifacts": f"{output}/{name}/output/model.tar.gz"},
            "TrainingJobStatus": "InProgress",
            "SecondaryStatus": "Starting",
            "HyperParameters": params.get("HyperParameters", {}),
            # What AWS fills in when the request leaves it out (tests/aws_examples/DescribeTrainingJob.json
            # and README.md there): the algorithm's metric definitions, EnableSageMakerMetricsTimeSeries,
            # each channel's CompressionType and RecordWrapperType, OutputDataConfig's KmsKeyId ('': the
            # SDK's Estimator.attach reads it) and CompressionType, ProfilingStatus.
            "AlgorithmSpecification": {
                "TrainingInputMode": "File", "EnableSageMakerMetricsTimeSeries": False, **spec,
                "MetricDefinitions": metric_definitions.for_job(
                    algorithms.repository_of(spec.get("TrainingImage") or ""), spec.get("MetricDefinitions"),
                    is_script_mode(params.get("HyperParameters")))},
            "RoleArn": params["RoleArn"],
            "InputDataConfig": [{"CompressionType": "None", "RecordWrapperType": "None", **channel}
                                for channel in params.get("InputDataConfig", [])],
            "OutputDataConfig": {"KmsKeyId": "", "CompressionType": "GZIP", **params["OutputDataConfig"]},
            # as the request asks; offline nothing is profiled (no rule jobs, no ProfilerRuleEvaluationStatuses)
            "ProfilingStatus": "Enabled" if params.get("ProfilerConfig") and
            not params["ProfilerConfig"].get("DisableProfiler") else "Disabled",
            "ResourceConfig": params.get("ResourceConfig", {"InstanceType": "ml.m5.large",
                                                          "InstanceCount": 1, "VolumeSizeInGB": 30}),
            "StoppingCondition": params.get("StoppingCondition", {"MaxRuntimeInSeconds": 86400}),
            "CreationTime": created,
            "LastModifiedTime": created,
            "SecondaryStatusTransitions": [],
            "EnableNetworkIsolation": params.get("EnableNetworkIsolation", False),
            "EnableInterContainerTrafficEncryption": params.get("EnableInterContainerTrafficEncryption", False),
            "EnableManagedSpotTraining": params.get("EnableManagedSpotTraining", False),
        }
        for optional in ("VpcConfig", "CheckpointConfig", "Environment", "DebugHookConfig", "DebugRuleConfigurations",
                         "TensorBoardOutputConfig", "ExperimentConfig", "RetryStrategy", "ProfilerConfig",
                         "ProfilerRuleConfigurations", "InfraCheckConfig", "RemoteDebugConfig"):
            if optional in params:
                job[optional] = params[optional]
        with self.lock:  # quota and insert under one lock: two parallel Creates cannot both pass it
            if resources.get("InstanceType"):
                quotas.check("training", resources["InstanceType"], resources.get("InstanceCount", 1),
                             instances_in_use(self.training_jobs.values(), "TrainingJobStatus", "ResourceConfig",
                                          resources["InstanceType"]))
            self._insert(self.training_jobs, name, job, "TrainingJobArn", params.get("Tags"), in_use(
                f"Training job names must be unique within an AWS account and region, "
                f"and a training job with this name already exists ({job['TrainingJobArn']})"))
        run_and_wait(lambda: self._train(job), self.sync_seconds, f"train-{name}", self.workers)
        return {"TrainingJobArn": job["TrainingJobArn"]}

    def _secondary(self, job: dict, status: str, message: str) -> None:
        stamp = now()
        transitions = job["SecondaryStatusTransitions"]
        if transitions:
            transitions[-1]["EndTime"] = stamp
        transitions.append({"Status": status, "StartTime": stamp, "StatusMessage": message})
        job["SecondaryStatus"] = status
        job["LastModifiedTime"] = stamp

    def _train(self, job: dict) -> None:
        name = job["TrainingJobName"]
        deadline = time.monotonic() + job["StoppingCondition"].get("MaxRuntimeInSeconds", 86400)

        def stop_reason() -> str | None:
            """StopTrainingJob, or StoppingCondition.MaxRuntimeInSeconds reached (AWS ends
            the job then: SecondaryStatus MaxRuntimeExceeded)."""
            if name in self.stop_requested or self.closing:
                return "Stopped"
            return "MaxRuntimeExceeded" if time.monotonic() > deadline else None

        log = self.logs.stream(TRAINING_LOG_GROUP, f"{name}/algo-1-{int(time.time())}")
        started = now()
        job["TrainingStartTime"] = started
        try:
            self._secondary(job, "Starting", "Preparing the instances for training")
            self._hold(stop_reason)
            image = job["AlgorithmSpecification"].get("TrainingImage") or job["AlgorithmSpecification"]["AlgorithmName"]
            algorithm = algorithms.for_image(image)
            log(f"[localaws] {algorithms.repository_of(image)} computed by {algorithm.__name__}")
            # a framework estimator's entry point (sagemaker_program) runs instead of the algorithm
            script = getattr(algorithm, "train_script", None) if is_script_mode(job["HyperParameters"]) else None
            spec = None if script else algorithm.HYPERPARAMETERS
            hyperparameters = job["HyperParameters"] if spec is None else parse_hyperparameters(
                spec, job["HyperParameters"], getattr(algorithm, "ALIASES", None), getattr(algorithm, "HINTS", None),
                getattr(algorithm, "WORDING", FIRST_PARTY))
            log(f"[localaws] hyperparameters set: {job['HyperParameters']} (others at their defaults)")
            with tempfile.TemporaryDirectory(prefix=f"{name}-", dir=self.workdir) as work:
                root = Path(work)
                self._secondary(job, "Downloading", "Downloading input data")
                channels = self._download_channels(job, root / "input" / "data", log)
                self._secondary(job, "Training", "Training image download completed. Training in progress.")
                model_dir, output_dir = root / "model", root / "output" / "data"
                model_dir.mkdir()
                output_dir.mkdir(parents=True)
                resources = job["ResourceConfig"]
                context = TrainingContext(name, self.s3, output_dir, resources.get("InstanceType", ""),
                                          resources.get("InstanceCount", 1), job.get("Environment", {}), image,
                                          stop_reason=stop_reason, processes=self.processes)
                train = script or algorithm.train
                metrics = dict(train(channels, hyperparameters, model_dir, log, context=context) or {})
                metrics.update(metrics_from_log(job["AlgorithmSpecification"].get("MetricDefinitions"), log.lines))
                self._secondary(job, "Uploading", "Uploading generated training model")
                output = job["ModelArtifacts"]["S3ModelArtifacts"].rsplit("/", 1)[0]
                self.s3.upload(tar_directory(model_dir, root / "model.tar.gz"), f"{output}/model.tar.gz")
                if any(output_dir.iterdir()):
                    self.s3.upload(tar_directory(output_dir, root / "output.tar.gz"), f"{output}/output.tar.gz")
            stamp = now()
            job["FinalMetricDataList"] = [{"MetricName": k, "Value": float(v), "Timestamp": stamp}
                                          for k, v in metrics.items()]
            stopped = name in self.stop_requested
            self._secondary(job, "Stopped" if stopped else "Completed",
                            "Training job stopped" if stopped else "Training job completed")
            job["TrainingJobStatus"] = "Stopped" if stopped else "Completed"
        except Stopped as stop:  # ended early: no model, as when SageMaker stops a container
            self._secondary(job, stop.reason, "Training job stopped" if stop.reason == "Stopped" else
                            "Training job runtime exceeded MaxRuntimeInSeconds provided")
            job["TrainingJobStatus"] = "Stopped"
            log(f"[localaws] training job ended early: {stop.reason}")
        except Exception as err:  # the job fails, as on AWS; the reason says why
            job["FailureReason"] = failure_reason(err)
            log(job["FailureReason"])
            if not isinstance(err, (ClientError, FileNotFoundError)):
                log(traceback.format_exc())
            self._secondary(job, "Failed", job["FailureReason"])
            job["TrainingJobStatus"] = "Failed"
        finally:
            ended = now()
            job["TrainingEndTime"] = ended
            job["SecondaryStatusTransitions"][-1]["EndTime"] = ended
            seconds = max(1, int((ended - started).total_seconds()))
            job["TrainingTimeInSeconds"] = job["BillableTimeInSeconds"] = seconds
            log.flush()

    def _download_channels(self, job: dict, root: Path, log: LogStream) -> dict[str, Channel]:
        channels = {}
        for channel in job["InputDataConfig"]:
            name = channel["ChannelName"]
            source = channel["DataSource"].get("S3DataSource")
            if not source:
                raise ClientError(f"channel '{name}': only S3 data sources are emulated")
            path = inside(root, name, "ChannelName")
            path.mkdir(parents=True)
            if source.get("S3DataType", "S3Prefix") == "ManifestFile":
                files = self._download_manifest(source["S3Uri"], path)
            else:
                files = self.s3.download_prefix(source["S3Uri"], path)
            log(f"[localaws] channel '{name}': {len(files)} file(s) from {source['S3Uri']}")
            channels[name] = Channel(name, path, channel.get("ContentType"), files)
        return channels

    def _download_manifest(self, uri: str, dest: Path) -> list[Path]:

        entries = json.loads(self.s3.read(uri))
        prefix = entries[0]["prefix"]
        files = []
        for key in entries[1:]:
            target = inside(dest, key, "manifest entry")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.s3.read(prefix.rstrip("/") + "/" + key))
            files.append(target)
        return files

    def stop_training_job(self, name: str) -> None:
        job = self.training_job(name)
        self._request_stop(job, "TrainingJobStatus", name, "training job")
        self._secondary(job, "Stopping", "Stopping the training job")
