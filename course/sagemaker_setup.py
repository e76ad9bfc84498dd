"""The setup every SageMaker-side notebook starts with: the SDK version, credentials, the
session with its default bucket, and the execution role.

Where this differs between platforms (facts in docs/DESIGN.md §9):
- SageMaker Distribution 4 images ship SDK v3, which removed `sagemaker.estimator`,
  `image_uris`, `Predictor`... and has no `sagemaker.__version__`: the version is read from
  the installed distribution's metadata.
- On a laptop without credentials boto3 raises `NoCredentialsError` deep inside the SDK;
  the notebooks say instead how to run offline.
- On a notebook instance or in Studio the execution role is the kernel's own
  (`sagemaker.get_execution_role()`); elsewhere a reader names one (`ROLE` or the
  `SAGEMAKER_ROLE_ARN` environment variable).
"""
from __future__ import annotations

import contextlib
import os
from importlib.metadata import PackageNotFoundError, version

from packaging.version import Version

INSTALL_LINE = "%pip install 'sagemaker>=2.245,<3'"
OFFLINE_HINT = ("No AWS credentials. On your own machine, run the notebook offline: "
                "`python -m localaws run -- jupyter lab` (see README)")


def require_sdk_v2() -> str:
    """Stop with the exact fix unless the kernel has the SageMaker Python SDK v2 (2.245, the
    oldest on a SageMaker Distribution image, or newer)."""
    try:
        version("sagemaker")
    except PackageNotFoundError:
        raise RuntimeError(f"this kernel has no SageMaker Python SDK. Run  {INSTALL_LINE}  in a cell, "
                           "then restart the kernel.") from None
    if not Version("2.245") <= Version(version("sagemaker")) < Version("3"):
        raise RuntimeError(f"this notebook needs the SageMaker Python SDK v2; this kernel has {version('sagemaker')}. "
                           f"Run  {INSTALL_LINE}  in a cell, then restart the kernel.")
    return version("sagemaker")


@contextlib.contextmanager
def credentials_explained():
    """Turn boto3's NoCredentialsError into what to do about it."""
    from botocore.exceptions import NoCredentialsError

    try:
        yield
    except NoCredentialsError:
        raise RuntimeError(OFFLINE_HINT) from None


def session_and_bucket(bucket: str | None = None):
    """A SageMaker session in the configured region and the bucket to use: `bucket`, else the
    session's default bucket (`sagemaker-<region>-<account>`, created if missing)."""
    import sagemaker

    with credentials_explained():
        session = sagemaker.Session()
        bucket = bucket or session.default_bucket()
    print(f"region {session.boto_region_name}, bucket {bucket}")
    return session, bucket


def execution_role(role: str | None = None, session=None) -> str:
    """The role SageMaker's jobs act as: `role`, else $SAGEMAKER_ROLE_ARN, else the kernel's own
    role (on a notebook instance or in Studio)."""
    import sagemaker

    role = role or os.environ.get("SAGEMAKER_ROLE_ARN")
    if not role:
        try:
            with credentials_explained():
                role = sagemaker.get_execution_role(session)
        except ValueError as error:  # a user's credentials, not a role: the SDK cannot tell which role
            raise RuntimeError("no execution role: set ROLE (or SAGEMAKER_ROLE_ARN) to the ARN of a role "
                               f"SageMaker may assume (README, IAM) ({error})") from None
    print("role", role.split("/")[-1])
    return role
