"""What our services need from the services moto keeps: S3 objects and CloudWatch Logs.

The emulated SageMaker reads channels from, and writes models to, moto's S3 through
boto3, exactly as the real service uses the real S3.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .paths import inside
from .protocol import AwsError

# localaws's own clients of moto (the AWS services acting for themselves); with IAM on, the
# keys of the service user localaws.iam creates, which moto lets do anything
SERVICE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def split_s3_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise AwsError("ValidationException", f"{uri!r} is not an s3:// URI")
    return parsed.netloc, parsed.path.lstrip("/")


class S3:
    def __init__(self, endpoint_url: str, region: str = "us-east-1"):
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region,
                                   config=Config(retries={"max_attempts": 2}), **SERVICE_CREDENTIALS)

    def keys_under(self, uri: str) -> list[tuple[str, str]]:
        """(bucket, key) of every object under an S3 prefix, in key order."""
        bucket, prefix = split_s3_uri(uri)
        found = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                found += [(bucket, o["Key"]) for o in page.get("Contents", []) if not o["Key"].endswith("/")]
        except ClientError as err:
            raise FileNotFoundError(f"cannot list {uri}: {err.response['Error']['Code']}") from err
        return found

    def download_prefix(self, uri: str, dest: Path) -> list[Path]:
        """Copy every object under `uri` into `dest`, keeping paths relative to the prefix."""
        _, prefix = split_s3_uri(uri)
        keys = self.keys_under(uri)
        if not keys:
            raise FileNotFoundError(f"no objects under {uri}")
        files = []
        for bucket, key in keys:
            target = inside(dest, key[len(prefix):].lstrip("/") or Path(key).name, "S3 key")
            target.parent.mkdir(parents=True, exist_ok=True)
            self.client.download_file(bucket, key, str(target))
            files.append(target)
        return files

    def read(self, uri: str) -> bytes:
        bucket, key = split_s3_uri(uri)
        try:
            return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as err:
            raise FileNotFoundError(f"cannot read {uri}: {err.response['Error']['Code']}") from err

    def write(self, uri: str, body: bytes) -> None:
        bucket, key = split_s3_uri(uri)
        self.client.put_object(Bucket=bucket, Key=key, Body=body)

    def upload(self, path: Path, uri: str) -> None:
        bucket, key = split_s3_uri(uri)
        self.client.upload_file(str(path), bucket, key)


class LogStream:
    """Lines written to one CloudWatch Logs stream, sent in batches (as the agent does)."""

    def __init__(self, logs: "Logs", group: str, stream: str, echo: bool = False):
        self.logs, self.group, self.stream, self.echo = logs, group, stream, echo
        self._pending: list[dict] = []
        self.lines: list[str] = []  # everything written, for metric definitions to scan
        logs.ensure_stream(group, stream)

    def __call__(self, line: str) -> None:
        for part in str(line).splitlines() or [""]:
            self.lines.append(part)
            self._pending.append({"timestamp": int(time.time() * 1000), "message": part})
            if self.echo:
                print(f"[{self.stream}] {part}", flush=True)
        if len(self._pending) >= 500:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self.logs.client.put_log_events(logGroupName=self.group, logStreamName=self.stream,
                                            logEvents=self._pending)
            self._pending = []


class Logs:
    def __init__(self, endpoint_url: str, region: str = "us-east-1", echo: bool = False):
        self.client = boto3.client("logs", endpoint_url=endpoint_url, region_name=region,
                                   **SERVICE_CREDENTIALS)
        self.echo = echo
        self._lock = threading.Lock()
        self._groups: set[str] = set()

    def ensure_stream(self, group: str, stream: str) -> None:
        with self._lock:
            if group not in self._groups:
                try:
                    self.client.create_log_group(logGroupName=group)
                except self.client.exceptions.ResourceAlreadyExistsException:
                    pass
                self._groups.add(group)
        self.client.create_log_stream(logGroupName=group, logStreamName=stream)

    def stream(self, group: str, stream: str) -> LogStream:
        return LogStream(self, group, stream, self.echo)
