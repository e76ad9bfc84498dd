"""SageMaker's per-instance-type quotas ("ml.p3.2xlarge for training job usage" ...).

AWS refuses a job or endpoint that would take an account past one of these with
ResourceLimitExceeded, worded as in aws/amazon-sagemaker-examples#263:

    The account-level service limit 'ml.p2.xlarge for training job usage' is 0 Instances,
    with current utilization of 0 Instances and a request delta of 1 Instances. Please
    contact AWS support to request an increase for this limit.

The values differ by account and change over time (new accounts often get 0 for GPU
types and most others: amazon-sagemaker-examples#593), so localaws has none of its own:
set your account's in LOCALAWS_SAGEMAKER_QUOTAS (JSON, quota name -> instances), e.g.
'{"ml.p3.2xlarge for training job usage": 0}', to see offline what your first run on AWS
would meet. The Service Quotas console shows your values.
"""
from __future__ import annotations

import json
import os

from ..protocol import AwsError

USAGE = {"training": "training job usage", "endpoint": "endpoint usage", "transform": "transform job usage"}


def configured() -> dict[str, int]:
    text = os.environ.get("LOCALAWS_SAGEMAKER_QUOTAS", "").strip()
    if not text:
        return {}
    try:
        values = json.loads(text)
        return {str(k): int(v) for k, v in values.items()}
    except (ValueError, AttributeError, TypeError):
        raise AwsError("InternalFailure", "LOCALAWS_SAGEMAKER_QUOTAS must be a JSON object of quota name -> "
                       "number, e.g. {\"ml.p3.2xlarge for training job usage\": 0}", 500) from None


def check(kind: str, instance_type: str, count: int, in_use: int) -> None:
    """Refuse `count` more instances of `instance_type` for `kind` when the quota is set and
    `in_use` + `count` would exceed it."""
    name = f"{instance_type} for {USAGE[kind]}"
    limit = configured().get(name)
    if limit is not None and in_use + count > limit:
        raise AwsError("ResourceLimitExceeded",
                       f"The account-level service limit '{name}' is {limit} Instances, with current utilization "
                       f"of {in_use} Instances and a request delta of {count} Instances. Please contact AWS "
                       "support to request an increase for this limit.")
