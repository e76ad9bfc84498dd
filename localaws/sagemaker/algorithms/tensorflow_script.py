"""TensorFlow script mode training: `sagemaker.tensorflow.TensorFlow(entry_point=...)`.

The entry point runs as script_mode.py describes (the training toolkit's contract). What is
TensorFlow's own: `distribution={"multi_worker_mirrored_strategy": {"enabled": True}}` with
InstanceCount > 1 gives each host a TF_CONFIG naming all the workers (on 127.0.0.1), and
the TensorFlow that runs is the one installed here (see `installed_tensorflow()`).
Parameter-server, MPI/Horovod and smdistributed distributions are not emulated.
"""
from __future__ import annotations

from pathlib import Path

from .base import Channel, ClientError, Log, TrainingContext
from .script_mode import ExecuteUserScriptError, free_ports, run

__all__ = ["ExecuteUserScriptError", "MWMS", "REPOSITORIES", "HYPERPARAMETERS", "train"]

REPOSITORIES = ("tensorflow-training",)
HYPERPARAMETERS = None  # framework container: the raw strings, as the SDK sent them
MWMS = "sagemaker_multi_worker_mirrored_strategy_enabled"
NOT_EMULATED = ("sagemaker_parameter_server_enabled", "sagemaker_mpi_enabled",
                "sagemaker_distributed_dataparallel_enabled", "sagemaker_instance_type")


def installed_tensorflow() -> str:
    from importlib.metadata import PackageNotFoundError, version

    for name in ("tensorflow-cpu", "tensorflow"):
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return "not installed"


def _refuse_other_distributions(hps: dict) -> None:
    for name in NOT_EMULATED:
        if hps.get(name) is True:
            raise ClientError(f"{name}: this distribution is not emulated offline; use "
                              "distribution={'multi_worker_mirrored_strategy': {'enabled': True}} or none")


def _tf_configs(hps: dict, count: int) -> list[dict | None]:
    """MultiWorkerMirroredStrategy's cluster: one worker per host, on ports of 127.0.0.1."""
    if hps.get(MWMS) is not True or count < 2:
        return [None] * count
    workers = [f"127.0.0.1:{port}" for port in free_ports(count)]
    return [{"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}} for i in range(count)]


def train(channels: dict[str, Channel], hp: dict, model_dir: Path, log: Log,
          context: TrainingContext | None = None) -> dict[str, float]:
    return run(channels, hp, model_dir, log, context, f"TensorFlow {installed_tensorflow()}",
               tf_configs=_tf_configs, check=_refuse_other_distributions)
