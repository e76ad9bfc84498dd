"""Hosting: models, endpoint configurations and endpoints. An endpoint really loads each
variant's model.tar.gz with its algorithm (LoadedModel) and answers InvokeEndpoint with it
(runtime.py)."""
from __future__ import annotations

import inspect
import shutil
import tarfile
import tempfile
import time
from pathlib import Path

from ..storage import S3
from . import algorithms, quotas
from .algorithms.base import ClientError, ServingAlgorithm
from .exceptions import already_exists, invalid
from .resources import ENDPOINT_LOG_GROUP, arn, failure_reason, now, run_and_wait


class LoadedModel:
    """A model.tar.gz unpacked and loaded by its algorithm, ready to predict."""

    def __init__(self, model_desc: dict, s3: S3, workdir: Path, extra_environment: dict | None = None):
        container = model_desc.get("PrimaryContainer") or (model_desc.get("Containers") or [{}])[0]
        image, data_url = container.get("Image", ""), container.get("ModelDataUrl")
        self.algorithm = algorithms.for_image(image)
        if not isinstance(self.algorithm, ServingAlgorithm):
            raise ClientError(f"{algorithms.repository_of(image)} is a training image: it cannot host a model. "
                              "Deploy with the framework's inference image (e.g. tensorflow-inference).")
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
        options = {"environment": environment, "s3": s3, "image": image}  # for the algorithms that ask for them
        self.predictor = load(self.dir, **{k: v for k, v in options.items() if k in accepted})
        self._predict_parameters = set(inspect.signature(self.predictor.predict).parameters)

    def predict(self, body: bytes, content_type: str | None, accept: str | None,
                custom_attributes: str | None = None) -> tuple[bytes, str]:
        """The request's CustomAttributes reach the predictors that read them (TF Serving's
        tfs-model-name, tfs-method ...)."""
        if custom_attributes is not None and "custom_attributes" in self._predict_parameters:
            return self.predictor.predict(body, content_type, accept, custom_attributes=custom_attributes)
        return self.predictor.predict(body, content_type, accept)

    @property
    def default_accept(self) -> str:
        return getattr(self.predictor, "default_accept", "application/json")

    def close(self) -> None:
        if hasattr(self.predictor, "close"):  # e.g. TF Serving's REST server for inference.py
            self.predictor.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def described_container(container: dict) -> dict:
    """A container as DescribeModel returns it: AWS adds Mode 'SingleModel' and, for a
    ModelDataUrl, the equivalent ModelDataSource (an S3Object, Gzip: model.tar.gz)
    (tests/aws_examples/DescribeModel.json)."""
    described = {"Mode": "SingleModel", **container}
    if container.get("ModelDataUrl") and not container.get("ModelDataSource"):
        described["ModelDataSource"] = {"S3DataSource": {"S3Uri": container["ModelDataUrl"], "S3DataType": "S3Object",
                                                         "CompressionType": "Gzip"}}
    return described


class Hosting:
    """The model, endpoint-configuration and endpoint operations of SageMakerBackend
    (models.py), which holds the state they use: `models`, `endpoint_configs`, `endpoints`,
    `live` (the loaded models of each endpoint), `lock`, `s3`, `logs`, `workdir`."""

    def create_model(self, params: dict, region: str) -> dict:
        name = params["ModelName"]
        if not params.get("PrimaryContainer") and not params.get("Containers"):
            raise invalid("Either PrimaryContainer or Containers must be specified.")
        model = {"ModelName": name, "ModelArn": arn(region, "model", name), "CreationTime": now(),
                 "ExecutionRoleArn": params.get("ExecutionRoleArn"),
                 "EnableNetworkIsolation": params.get("EnableNetworkIsolation", False)}
        for key in ("VpcConfig", "InferenceExecutionConfig"):
            if key in params:
                model[key] = params[key]
        if params.get("PrimaryContainer"):
            model["PrimaryContainer"] = described_container(params["PrimaryContainer"])
        if params.get("Containers"):
            model["Containers"] = [described_container(c) for c in params["Containers"]]
        self._insert(self.models, name, model, "ModelArn", params.get("Tags"),
                     already_exists(f"model \"{model['ModelArn']}\""))
        return {"ModelArn": model["ModelArn"]}

    def delete_model(self, name: str) -> None:
        with self.lock:
            self.forget_tags(self.model(name)["ModelArn"])
            del self.models[name]

    def create_endpoint_config(self, params: dict, region: str) -> dict:
        name = params["EndpointConfigName"]
        variants = params["ProductionVariants"]
        for variant in variants:
            if variant["ModelName"] not in self.models:
                raise invalid(f"Could not find model \"{arn(region, 'model', variant['ModelName'])}\".")
        config = {"EndpointConfigName": name, "EndpointConfigArn": arn(region, "endpoint-config", name),
                  "ProductionVariants": [{"InitialVariantWeight": 1.0, **v} for v in variants],
                  "EnableNetworkIsolation": params.get("EnableNetworkIsolation", False),  # as AWS fills it in
                  "CreationTime": now()}
        for key in ("DataCaptureConfig", "KmsKeyId", "AsyncInferenceConfig"):
            if key in params:
                config[key] = params[key]
        self._insert(self.endpoint_configs, name, config, "EndpointConfigArn", params.get("Tags"),
                     already_exists(f"endpoint configuration \"{config['EndpointConfigArn']}\""))
        return {"EndpointConfigArn": config["EndpointConfigArn"]}

    def delete_endpoint_config(self, name: str) -> None:
        with self.lock:
            self.forget_tags(self.endpoint_config(name)["EndpointConfigArn"])
            del self.endpoint_configs[name]

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
            self._insert(self.endpoints, name, endpoint, "EndpointArn", params.get("Tags"),
                         already_exists(f"endpoint \"{endpoint['EndpointArn']}\""))
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
            self.forget_tags(self.endpoint(name)["EndpointArn"])
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
