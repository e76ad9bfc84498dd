"""Emulated Amazon Athena: SQL over tables of the Glue Data Catalog, run for real.

moto keeps the Glue catalog (databases, tables, columns, S3 locations) but its Athena
returns no rows, so localaws answers Athena itself: a SELECT reads the tables it names
from (moto's) S3 and runs in DuckDB (engine.py); CREATE/DROP DATABASE and CREATE
EXTERNAL/DROP TABLE write through to Glue (ddl.py). Those modules say what differs from AWS.
"""
from __future__ import annotations

import boto3

from ..protocol import front_ends
from ..storage import SERVICE_CREDENTIALS
from .models import AthenaBackend
from .responses import AthenaResponses


def build(emulator) -> dict:
    glue = boto3.client("glue", endpoint_url=emulator.moto_url, region_name="us-east-1", **SERVICE_CREDENTIALS)
    backend = AthenaBackend(emulator.s3, glue, emulator.workdir / "athena")
    services = {}
    for i, front_end in enumerate(front_ends("athena", AthenaResponses(backend), strict=emulator.strict)):
        front_end.endpoint_variables = ("AWS_ENDPOINT_URL_ATHENA",)
        services[f"athena-{i}" if i else "athena"] = front_end
    return services
