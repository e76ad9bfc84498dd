"""Chapter 6's per-partition RecordIO export writes exactly what the book's collect writes.

The notebook's own export cell runs (as benchmarks/recordio_export.py runs it) on a small
one-hot data set; the partitions' objects, concatenated in partition order, must equal the
single object written from the collected rows, byte for byte.
"""
from __future__ import annotations

import os
import sys
import time

import pytest
import sagemaker

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
import recordio_export  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = SparkSession.builder.appName("test-recordio-export").master("local[2]").getOrCreate()
    yield spark
    spark.stop()


def test_partition_objects_concatenate_to_the_collected_object(spark):
    session = sagemaker.Session()
    bucket, prefix = session.default_bucket(), f"tests/recordio-{time.time_ns()}"
    df = recordio_export.rows(spark, 3000, 4)
    exporter = recordio_export.notebook_exporter(session, bucket, prefix)
    s3_prefix, written = exporter["export_recordio"](df, "parallel")
    assert (s3_prefix, written) == (f"s3://{bucket}/{prefix}/parallel/", 3000)
    assert len(recordio_export.objects(bucket, f"{prefix}/parallel/")) == 4
    recordio_export.collect_and_write(df, bucket, f"{prefix}/collected/all.pbr")
    assert recordio_export.same_records(bucket, f"{prefix}/parallel/", f"{prefix}/collected/all.pbr")
