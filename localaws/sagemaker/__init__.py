"""Emulated Amazon SageMaker: control plane (jobs, models, endpoints) and runtime."""
from __future__ import annotations

from ..protocol import JsonProtocolService, RestJsonService
from .models import SageMakerBackend
from .responses import SageMakerResponses
from .runtime import RuntimeHandlers


def build(emulator) -> dict:
    backend = SageMakerBackend(emulator.s3, emulator.logs, emulator.workdir, emulator.sync_seconds,
                               getattr(emulator, "job_seconds", 0.0))
    control = JsonProtocolService("sagemaker", SageMakerResponses(backend), strict=emulator.strict)
    control.endpoint_variables = ("AWS_ENDPOINT_URL_SAGEMAKER",)
    control.leftovers = backend.leftovers
    control.clear_leftovers = backend.clear_leftovers
    control.shutdown = backend.shutdown
    runtime = RestJsonService("sagemaker-runtime", RuntimeHandlers(backend), strict=emulator.strict)
    runtime.endpoint_variables = ("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME",)
    return {"sagemaker": control, "sagemaker-runtime": runtime}
