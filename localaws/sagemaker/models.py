"""SageMaker's resources and what happens to them: training jobs really train, endpoints
really load their model, transform jobs really predict.

Each resource is kept as the dict its Describe* call returns, updated as it moves through
its statuses. Jobs run on a worker thread; a Create* call waits for its job (up to
`sync_seconds`) so that with small data it returns a finished job and the SDK's waiters
have nothing to wait for, while a long job simply stays InProgress until it is done.

With `job_seconds` > 0 (`localaws run --job-seconds N`), the realistic clock: Create*
returns at once and every job, endpoint and transform spends at least N seconds in its
first state (InProgress / Creating) before its work, so waiters, `Stopping` and "not
finished yet" paths can be exercised; a stop during that time ends the job Stopped.
"""
from __future__ import annotations

import datetime as dt
import inspect
import re
import shutil
import tarfile
import tempfile
import threading
import time
import traceback
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Callable

from ..paths import inside
from ..storage import S3, Logs, LogStream
from . import algorithms, quotas, transform, tuning
from .algorithms.base import FIRST_PARTY, Channel, ProcessGroups, ClientError, Stopped, TrainingContext, parse_hyperparameters
from .algorithms.script_mode import is_script_mode
from .exceptions import already_exists, in_use, invalid, not_found

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


class LoadedModel:
    """A model.tar.gz unpacked and loaded by its algorithm, ready to predict."""

    def __init__(self, model_desc: dict, s3: S3, workdir: Path, extra_environment: dict | None = None):
        container = model_desc.get("PrimaryContainer") or (model_desc.get("Containers") or [{}])[0]
        image, data_url = container.get("Image", ""), container.get("ModelDataUrl")
        self.algorithm = algorithms.for_image(image)
        self.image = image
        self.dir = Path(tempfile.mkdtemp(prefix="model-", dir=workdir))
        if data_url:
            archive = self.dir / "model.tar.gz"
            archive.write_bytes(s3.read(data_url))
            with tarfile.open(archive) as tar:
                tar.extractall(self.dir, filter="data")
            archive.unlink()
        environment = {**container.get("Environment", {}), **(extra_environment or {})}
        load = self.algorithm.load
        accepted = inspect.signature(load).parameters
        options = {"environment": environment, "s3": s3}  # for the algorithms that ask for them
        self.predictor = load(self.dir, **{k: v for k, v in options.items() if k in accepted})

    def predict(self, body: bytes, content_type: str | None, accept: str | None) -> tuple[bytes, str]:
        return self.predictor.predict(body, content_type, accept)

    @property
    def default_accept(self) -> str:
        return getattr(self.predictor, "default_accept", "application/json")

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class SageMakerBackend:
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
        self.tags: dict[str, list[dict]] = {}
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

    def _tag(self, resource_arn: str, tags: list[dict] | None) -> None:
        if tags:
            current = {t["Key"]: t for t in self.tags.get(resource_arn, [])}
            current.update({t["Key"]: t for t in tags})
            self.tags[resource_arn] = list(current.values())

    # ------------------------------------------------------------ training
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
            "AlgorithmSpecification": {"TrainingInputMode": "File", **spec},
            "RoleArn": params["RoleArn"],
            "InputDataConfig": params.get("InputDataConfig", []),
            # AWS returns KmsKeyId (empty when none was given): the SDK's Estimator.attach reads it
            "OutputDataConfig": {"KmsKeyId": "", **params["OutputDataConfig"]},
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
        for optional in ("VpcConfig", "CheckpointConfig", "Environment", "DebugHookConfig",
                         "TensorBoardOutputConfig", "ExperimentConfig", "RetryStrategy"):
            if optional in params:
                job[optional] = params[optional]
        with self.lock:  # quota and insert under one lock: two parallel Creates cannot both pass it
            if resources.get("InstanceType"):
                quotas.check("training", resources["InstanceType"], resources.get("InstanceCount", 1),
                             self._in_use(self.training_jobs.values(), "TrainingJobStatus", "ResourceConfig",
                                          resources["InstanceType"]))
            if name in self.training_jobs:
                raise in_use(f"Training job names must be unique within an AWS account and region, "
                             f"and a training job with this name already exists ({job['TrainingJobArn']})")
            self.training_jobs[name] = job
            self._tag(job["TrainingJobArn"], params.get("Tags"))
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
        import json

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
        if job["TrainingJobStatus"] != "InProgress":
            raise invalid(f"The training job status is {job['TrainingJobStatus']}; only an "
                          "InProgress job can be stopped.")
        self.stop_requested.add(name)
        job["TrainingJobStatus"] = "Stopping"
        self._secondary(job, "Stopping", "Stopping the training job")

    # ------------------------------------------------------------ models and endpoints
    def create_model(self, params: dict, region: str) -> dict:
        name = params["ModelName"]
        if not params.get("PrimaryContainer") and not params.get("Containers"):
            raise invalid("Either PrimaryContainer or Containers must be specified.")
        model = {"ModelName": name, "ModelArn": arn(region, "model", name), "CreationTime": now(),
                 "ExecutionRoleArn": params.get("ExecutionRoleArn"),
                 "EnableNetworkIsolation": params.get("EnableNetworkIsolation", False)}
        for key in ("PrimaryContainer", "Containers", "VpcConfig", "InferenceExecutionConfig"):
            if key in params:
                model[key] = params[key]
        with self.lock:
            if name in self.models:
                raise already_exists(f"model \"{model['ModelArn']}\"")
            self.models[name] = model
            self._tag(model["ModelArn"], params.get("Tags"))
        return {"ModelArn": model["ModelArn"]}

    def delete_model(self, name: str) -> None:
        with self.lock:
            self.model(name)
            del self.models[name]

    def create_endpoint_config(self, params: dict, region: str) -> dict:
        name = params["EndpointConfigName"]
        variants = params["ProductionVariants"]
        for variant in variants:
            if variant["ModelName"] not in self.models:
                raise invalid(f"Could not find model \"{arn(region, 'model', variant['ModelName'])}\".")
        config = {"EndpointConfigName": name, "EndpointConfigArn": arn(region, "endpoint-config", name),
                  "ProductionVariants": [{"InitialVariantWeight": 1.0, **v} for v in variants],
                  "CreationTime": now()}
        for key in ("DataCaptureConfig", "KmsKeyId", "AsyncInferenceConfig"):
            if key in params:
                config[key] = params[key]
        with self.lock:
            if name in self.endpoint_configs:
                raise already_exists(f"endpoint configuration \"{config['EndpointConfigArn']}\"")
            self.endpoint_configs[name] = config
            self._tag(config["EndpointConfigArn"], params.get("Tags"))
        return {"EndpointConfigArn": config["EndpointConfigArn"]}

    def delete_endpoint_config(self, name: str) -> None:
        with self.lock:
            self.endpoint_config(name)
            del self.endpoint_configs[name]

    @staticmethod
    def _in_use(jobs, status_key: str, resources_key: str, instance_type: str) -> int:
        """Instances of a type that running jobs hold."""
        return sum(j[resources_key].get("InstanceCount", 1) for j in list(jobs)
                   if j.get(status_key) in ("InProgress", "Stopping")
                   and j[resources_key].get("InstanceType") == instance_type)

    def _endpoint_instances(self, instance_type: str) -> int:
        """Instances of a type that existing endpoints hold (their configs' variants)."""
        held = 0
        for endpoint in list(self.endpoints.values()):
            config = self.endpoint_configs.get(endpoint["EndpointConfigName"]) or {}
            held += sum(v.get("InitialInstanceCount", 1) for v in config.get("ProductionVariants", [])
                        if v.get("InstanceType") == instance_type)
        return held

    def create_endpoint(self, params: dict, region: str) -> dict:
        name, config_name = params["EndpointName"], params["EndpointConfigName"]
        config = self.endpoint_config(config_name)
        created = now()
        endpoint = {"EndpointName": name, "EndpointArn": arn(region, "endpoint", name),
                    "EndpointConfigName": config_name, "EndpointStatus": "Creating",
                    "CreationTime": created, "LastModifiedTime": created}
        if config.get("AsyncInferenceConfig"):  # DescribeEndpoint repeats it (botocore's output shape)
            endpoint["AsyncInferenceConfig"] = config["AsyncInferenceConfig"]
        with self.lock:
            for variant in config["ProductionVariants"]:
                if variant.get("InstanceType"):
                    quotas.check("endpoint", variant["InstanceType"], variant.get("InitialInstanceCount", 1),
                                 self._endpoint_instances(variant["InstanceType"]))
            if name in self.endpoints:
                raise already_exists(f"endpoint \"{endpoint['EndpointArn']}\"")
            self.endpoints[name] = endpoint
            self._tag(endpoint["EndpointArn"], params.get("Tags"))
        run_and_wait(lambda: self._bring_up(endpoint, config), self.sync_seconds, f"endpoint-{name}", self.workers)
        return {"EndpointArn": endpoint["EndpointArn"]}

    def _bring_up(self, endpoint: dict, config: dict) -> None:
        log = self.logs.stream(f"{ENDPOINT_LOG_GROUP}/{endpoint['EndpointName']}",
                               f"AllTraffic/{int(time.time())}")
        loaded: dict[str, LoadedModel] = {}
        try:
            self._hold()
            for variant in config["ProductionVariants"]:
                model = self.model(variant["ModelName"])
                loaded[variant["VariantName"]] = LoadedModel(model, self.s3, self.workdir)
                log(f"[localaws] variant {variant['VariantName']}: model {variant['ModelName']} loaded "
                    f"({loaded[variant['VariantName']].algorithm.__name__})")
            endpoint["ProductionVariants"] = [{
                "VariantName": v["VariantName"],
                "DeployedImages": [{"SpecifiedImage": loaded[v["VariantName"]].image,
                                    "ResolvedImage": loaded[v["VariantName"]].image, "ResolutionTime": now()}],
                "CurrentWeight": v.get("InitialVariantWeight", 1.0),
                "DesiredWeight": v.get("InitialVariantWeight", 1.0),
                # a serverless variant has no instances: its summary carries the configuration
                # instead (botocore's ProductionVariantSummary: Current/DesiredServerlessConfig)
                **({"CurrentServerlessConfig": v["ServerlessConfig"], "DesiredServerlessConfig": v["ServerlessConfig"]}
                   if v.get("ServerlessConfig") else
                   {"CurrentInstanceCount": v.get("InitialInstanceCount", 1),
                    "DesiredInstanceCount": v.get("InitialInstanceCount", 1)})}
                for v in config["ProductionVariants"]]
            with self.lock:
                if endpoint["EndpointName"] not in self.endpoints:  # deleted while loading
                    raise RuntimeError("endpoint deleted while it was being created")
                self.live[endpoint["EndpointName"]] = loaded
            endpoint["EndpointStatus"] = "InService"
        except Exception as err:
            for model in loaded.values():
                model.close()
            endpoint["EndpointStatus"] = "Failed"
            endpoint["FailureReason"] = failure_reason(err)
            log(endpoint["FailureReason"])
        finally:
            endpoint["LastModifiedTime"] = now()
            log.flush()

    def delete_endpoint(self, name: str) -> None:
        with self.lock:
            self.endpoint(name)
            del self.endpoints[name]
            for model in self.live.pop(name, {}).values():
                model.close()

    def live_model(self, endpoint_name: str, variant: str | None) -> tuple[str, LoadedModel]:
        with self.lock:
            endpoint = self.endpoints.get(endpoint_name)
            if endpoint is None or endpoint["EndpointStatus"] != "InService":
                raise KeyError(endpoint_name)
            models = self.live[endpoint_name]
        if variant:
            if variant not in models:
                raise invalid(f"Variant {variant} not found for endpoint {endpoint_name}.")
            return variant, models[variant]
        first = next(iter(models))
        return first, models[first]

    # ------------------------------------------------------------ batch transform
    def create_transform_job(self, params: dict, region: str) -> dict:
        name = params["TransformJobName"]
        self.model(params["ModelName"])
        resources = params["TransformResources"]
        created = now()
        job = {"TransformJobName": name, "TransformJobArn": arn(region, "transform-job", name),
               "TransformJobStatus": "InProgress", "ModelName": params["ModelName"],
               "TransformInput": {"SplitType": "None", "CompressionType": "None", **params["TransformInput"]},
               "TransformOutput": {"AssembleWith": "None", **params["TransformOutput"]},
               "TransformResources": params["TransformResources"],
               "BatchStrategy": params.get("BatchStrategy", "MultiRecord"),
               "MaxPayloadInMB": params.get("MaxPayloadInMB", 6),
               "Environment": params.get("Environment", {}), "CreationTime": created}
        for key in ("MaxConcurrentTransforms", "DataProcessing", "ModelClientConfig", "ExperimentConfig"):
            if key in params:
                job[key] = params[key]
        with self.lock:
            quotas.check("transform", resources["InstanceType"], resources.get("InstanceCount", 1),
                         self._in_use(self.transform_jobs.values(), "TransformJobStatus", "TransformResources",
                                      resources["InstanceType"]))
            if name in self.transform_jobs:
                raise in_use(f"Transform job names must be unique within an AWS account and region, "
                             f"and a transform job with this name already exists ({job['TransformJobArn']})")
            self.transform_jobs[name] = job
            self._tag(job["TransformJobArn"], params.get("Tags"))
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

    # ------------------------------------------------------------ hyperparameter tuning
    def create_hyper_parameter_tuning_job(self, params: dict, region: str) -> dict:
        name = params["HyperParameterTuningJobName"]
        config, definition = params["HyperParameterTuningJobConfig"], params.get("TrainingJobDefinition")
        if not definition:
            raise invalid("localaws runs tuning jobs with a single TrainingJobDefinition; "
                          "TrainingJobDefinitions (several algorithms) are not emulated.")
        objective = config.get("HyperParameterTuningJobObjective")
        if not objective:
            raise invalid("HyperParameterTuningJobObjective is required unless Autotune is enabled; "
                          "Autotune is not emulated.")
        ranges = tuning.parse_ranges(config.get("ParameterRanges") or {})
        search = tuning.strategy(config["Strategy"], ranges, config.get("RandomSeed"))
        limits = config["ResourceLimits"]
        max_jobs = limits.get("MaxNumberOfTrainingJobs") or len(getattr(search, "grid", [])) or 1
        # As AWS describes it (the SDK's own fixture, tests/unit/tuner_test_utils.py
        # TUNING_JOB_DETAILS, and its HyperparameterTuner.attach, which reads both keys
        # unconditionally): the objective as the reserved static hyperparameter, and the
        # instances as ResourceConfig, also when they were given as HyperParameterTuningResourceConfig
        # (as SDK v2 sends them) for a single instance type.
        definition = {**definition, "StaticHyperParameters": {
            **definition.get("StaticHyperParameters", {}), "_tuning_objective_metric": objective["MetricName"]}}
        # AlgorithmSpecification.MetricDefinitions is read unconditionally too; AWS lists a
        # built-in algorithm's own metrics there, which localaws does not know as regexes: the
        # definitions given, or none.
        definition["AlgorithmSpecification"] = {"MetricDefinitions": [], **definition["AlgorithmSpecification"]}
        hpo_resources = definition.get("HyperParameterTuningResourceConfig") or {}
        if "ResourceConfig" not in definition and hpo_resources.get("InstanceType"):
            definition["ResourceConfig"] = {k: hpo_resources[k] for k in (
                "InstanceType", "InstanceCount", "VolumeSizeInGB", "VolumeKmsKeyId") if k in hpo_resources}
        created = now()
        job = {"HyperParameterTuningJobName": name,
               "HyperParameterTuningJobArn": arn(region, "hyper-parameter-tuning-job", name),
               "HyperParameterTuningJobConfig": config, "TrainingJobDefinition": definition,
               "HyperParameterTuningJobStatus": "InProgress", "CreationTime": created, "LastModifiedTime": created,
               "TrainingJobStatusCounters": {"Completed": 0, "InProgress": 0, "RetryableError": 0,
                                             "NonRetryableError": 0, "Stopped": 0},
               "ObjectiveStatusCounters": {"Succeeded": 0, "Pending": 0, "Failed": 0}}
        if params.get("WarmStartConfig"):
            job["WarmStartConfig"] = params["WarmStartConfig"]
        with self.lock:
            if name in self.tuning_jobs:
                raise in_use(f"Tuning job names must be unique within an AWS account and region, and a "
                             f"tuning job with this name already exists ({job['HyperParameterTuningJobArn']})")
            self.tuning_jobs[name], self.tuning_trials[name] = job, []
            self._tag(job["HyperParameterTuningJobArn"], params.get("Tags"))
        run = lambda: self._tune(job, search, objective, max_jobs, limits["MaxParallelTrainingJobs"], region)  # noqa: E731
        run_and_wait(run, self.sync_seconds, f"tune-{name}", self.workers)
        return {"HyperParameterTuningJobArn": job["HyperParameterTuningJobArn"]}

    def _tune(self, job: dict, search, objective: dict, max_jobs: int, parallel: int, region: str) -> None:
        name, maximize = job["HyperParameterTuningJobName"], objective["Type"] == "Maximize"
        history: list = []  # (position in the ranges, objective value) of finished jobs
        issued = 0
        try:
            with ThreadPoolExecutor(parallel, thread_name_prefix=f"tune-{name}") as pool:
                running: dict = {}
                while (issued < max_jobs and name not in self.stop_requested) or running:
                    free = min(parallel - len(running), max_jobs - issued)
                    if free > 0 and name not in self.stop_requested:
                        batch = search.suggest(history, free, maximize)
                        if not batch:
                            max_jobs = issued  # a grid that is exhausted
                        for position in batch:
                            issued += 1
                            trial = f"{name}-{issued:03d}-{uuid.uuid4().hex[:8]}"
                            future = pool.submit(self._trial, job, trial, search.values(position), objective, region)
                            running[future] = position
                    if running:
                        done, _ = wait(running, return_when=FIRST_COMPLETED)
                        for future in done:
                            value = future.result()
                            position = running.pop(future)
                            if value is not None:
                                history.append((position, value))
            self._finish_tuning(job, maximize)
        except Exception as err:  # a bug or a bad definition: the tuning job fails, saying why
            job["HyperParameterTuningJobStatus"] = "Failed"
            job["FailureReason"] = failure_reason(err)
        finally:
            job["HyperParameterTuningEndTime"] = job["LastModifiedTime"] = now()
            job["ConsumedResources"] = {"RuntimeInSeconds": max(1, int(
                (job["HyperParameterTuningEndTime"] - job["CreationTime"]).total_seconds()))}

    def _trial(self, tuning_job: dict, name: str, values: dict[str, str], objective: dict, region: str) -> float | None:
        """One training job of a tuning job; returns its objective metric, or None."""
        definition = tuning_job["TrainingJobDefinition"]
        counters, objectives = tuning_job["TrainingJobStatusCounters"], tuning_job["ObjectiveStatusCounters"]
        with self.lock:
            counters["InProgress"] += 1
            objectives["Pending"] += 1
        hyperparameters = {**definition["StaticHyperParameters"], **values}  # carries _tuning_objective_metric
        request = {k: definition[k] for k in ("AlgorithmSpecification", "RoleArn", "InputDataConfig", "OutputDataConfig",
                                             "ResourceConfig", "StoppingCondition", "VpcConfig", "Environment",
                                             "EnableNetworkIsolation", "CheckpointConfig") if k in definition}
        request.update(TrainingJobName=name, HyperParameters=hyperparameters)
        configs = (definition.get("HyperParameterTuningResourceConfig") or {}).get("InstanceConfigs")
        if "ResourceConfig" not in request and configs:  # "Prioritized": the first one, always available offline
            request["ResourceConfig"] = dict(configs[0])
        request["AlgorithmSpecification"] = {k: v for k, v in request["AlgorithmSpecification"].items()
                                             if k != "AlgorithmName" or v}
        self.create_training_job(request, region)
        job = self.training_job(name)
        job["TuningJobArn"] = tuning_job["HyperParameterTuningJobArn"]
        while job["TrainingJobStatus"] in ("InProgress", "Stopping"):
            time.sleep(0.05)
        metrics = {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])}
        value = metrics.get(objective["MetricName"])
        summary = {"TrainingJobName": name, "TrainingJobArn": job["TrainingJobArn"],
                   "TuningJobName": tuning_job["HyperParameterTuningJobName"], "CreationTime": job["CreationTime"],
                   "TrainingStartTime": job.get("TrainingStartTime"), "TrainingEndTime": job.get("TrainingEndTime"),
                   "TrainingJobStatus": job["TrainingJobStatus"], "TunedHyperParameters": values,
                   "ObjectiveStatus": "Succeeded" if value is not None else "Failed"}
        if value is not None:
            summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": objective["Type"], "MetricName": objective["MetricName"], "Value": float(value)}
        if job.get("FailureReason"):
            summary["FailureReason"] = job["FailureReason"]
        elif value is None:
            summary["FailureReason"] = f"The training job did not report the objective metric {objective['MetricName']}."
        with self.lock:
            self.tuning_trials[tuning_job["HyperParameterTuningJobName"]].append(summary)
            counters["InProgress"] -= 1
            status = job["TrainingJobStatus"]
            counters["Completed" if status == "Completed" else "Stopped" if status == "Stopped" else "NonRetryableError"] += 1
            objectives["Pending"] -= 1
            objectives["Succeeded" if value is not None else "Failed"] += 1
            tuning_job["LastModifiedTime"] = now()
        return value

    def _finish_tuning(self, job: dict, maximize: bool) -> None:
        name = job["HyperParameterTuningJobName"]
        scored = [t for t in self.tuning_trials[name] if "FinalHyperParameterTuningJobObjectiveMetric" in t]
        if scored:
            key = lambda t: t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]  # noqa: E731
            job["BestTrainingJob"] = max(scored, key=key) if maximize else min(scored, key=key)
        if name in self.stop_requested:
            job["HyperParameterTuningJobStatus"] = "Stopped"
        elif scored:
            job["HyperParameterTuningJobStatus"] = "Completed"
        else:
            job["HyperParameterTuningJobStatus"] = "Failed"
            reasons = {t.get("FailureReason", "") for t in self.tuning_trials[name]}
            job["FailureReason"] = "No training job reported the objective metric. " + " | ".join(sorted(reasons))[:900]

    def stop_hyper_parameter_tuning_job(self, name: str) -> None:
        job = self.tuning_job(name)
        if job["HyperParameterTuningJobStatus"] != "InProgress":
            raise invalid(f"The tuning job status is {job['HyperParameterTuningJobStatus']}; only an "
                          "InProgress job can be stopped.")
        self.stop_requested.add(name)
        job["HyperParameterTuningJobStatus"] = "Stopping"

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
            self.endpoint_configs.clear()
            self.models.clear()
