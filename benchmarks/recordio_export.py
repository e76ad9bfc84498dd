"""Chapter 6's RecordIO export at scale: per-partition writes versus the book's collect.

    python -m localaws run -- python benchmarks/recordio_export.py [--rows 1000000] [--partitions 8]

Spark generates N one-hot (attraction, user) rows like notebook
chapter06_recommenders/3_sagemaker_factorization_machines.ipynb builds (31 attractions,
N/10 users, an interest level 0-4), then:

1. **parallel**: runs the notebook's own `write_partition` / `export_recordio` (read from
   the notebook, so the benchmark times exactly what readers run): each task writes its
   partition as sparse RecordIO-protobuf and uploads it to S3; only counts reach the driver;
2. **collect** (the book's way, for comparison): collects every row to the driver, stacks
   one scipy matrix and writes a single object.

Reported: seconds for each (the export step alone: the rows are generated and cached
first), the bytes written, whether the partitions' objects concatenated in partition order
equal the collected object byte for byte, the Python driver's peak RSS growth during each
step (ru_maxrss, Linux), and at the end the peak RSS of the driver and of the JVM. Run it
with the project's Spark settings, `SPARK_CONF_DIR=tools/spark-conf`, as `make run` does. Needs S3: offline, run it under `localaws run`.
Results go to build/benchmarks/recordio_export.json.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "chapter06_recommenders" / "3_sagemaker_factorization_machines.ipynb"
POIS = 31


def notebook_exporter(session, bucket: str, prefix: str) -> dict:
    """The notebook's export functions, defined in a namespace holding the globals they read."""
    cell = next(c for c in nbformat.read(NOTEBOOK, as_version=4).cells
                if c.cell_type == "code" and "def write_partition" in c.source)
    namespace = {"session": session, "bucket": bucket, "PREFIX": prefix}
    exec(compile(cell.source, f"{NOTEBOOK.name} (export cell)", "exec"), namespace)
    return namespace


def rows(spark, n: int, partitions: int):
    from pyspark.ml.feature import OneHotEncoder, VectorAssembler
    from pyspark.sql import functions as F

    df = (spark.range(n, numPartitions=partitions)
          .select((F.col("id") % POIS).cast("double").alias("poi"),
                  ((F.col("id") * 7919) % max(n // 10, 1)).cast("double").alias("user"),
                  ((F.col("id") * 31) % 5).cast("double").alias("interest_level")))
    encoded = OneHotEncoder(inputCols=["poi", "user"], outputCols=["poi_v", "user_v"], dropLast=False).fit(df).transform(df)
    return VectorAssembler(inputCols=["poi_v", "user_v"], outputCol="features").transform(encoded).cache()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def jvm_peak_mb(spark) -> float:
    """The Spark JVM's peak resident memory so far (VmHWM, Linux)."""
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmHWM"))
    return int(line.split()[1]) / 1024


def collect_and_write(df, bucket: str, key: str) -> int:
    """The book's approach: every row through the driver into one object."""
    import boto3
    import numpy as np
    from sagemaker.amazon.common import write_spmatrix_to_sparse_tensor
    from scipy.sparse import csr_matrix

    collected = df.select("features", "interest_level").collect()
    # one CSR matrix straight from the rows (faster than the book's vstack of 1-row matrices)
    lengths = [len(r.features.indices) for r in collected]
    matrix = csr_matrix((np.concatenate([r.features.values for r in collected]).astype(np.float32),
                         np.concatenate([r.features.indices for r in collected]),
                         np.concatenate([[0], np.cumsum(lengths)])),
                        shape=(len(collected), collected[0].features.size))
    buffer = io.BytesIO()
    write_spmatrix_to_sparse_tensor(buffer, matrix, np.array([r.interest_level for r in collected], dtype=np.float32))
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
    return buffer.tell()


def objects(bucket: str, prefix: str) -> list[str]:
    import boto3

    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def object_bytes(bucket: str, prefix: str) -> int:
    import boto3

    s3 = boto3.client("s3")
    return sum(s3.head_object(Bucket=bucket, Key=key)["ContentLength"] for key in objects(bucket, prefix))


def same_records(bucket: str, parts_prefix: str, whole_key: str) -> bool:
    """True when the partitions' objects, in partition order, hold exactly the whole object's bytes."""
    import boto3

    s3 = boto3.client("s3")
    read = lambda key: s3.get_object(Bucket=bucket, Key=key)["Body"].read()  # noqa: E731
    return b"".join(read(key) for key in objects(bucket, parts_prefix)) == read(whole_key)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--skip-collect", action="store_true", help="time only the parallel export")
    args = parser.parse_args()

    import boto3

    aws = boto3.session.Session()
    if aws.region_name is None or aws.get_credentials() is None:  # else the SDK fails deep in Session()
        parser.exit(2, "recordio_export.py writes to S3, and this shell has no AWS region or credentials. "
                       "Offline:\n  python -m localaws run -- python benchmarks/recordio_export.py "
                       f"{' '.join(sys.argv[1:])}\n")
    import sagemaker
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers need this venv's sagemaker

    session = sagemaker.Session()
    bucket = session.default_bucket()
    spark = SparkSession.builder.appName("recordio-export-benchmark").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    prefix = f"benchmarks/recordio-export-{time.time_ns()}"
    start = time.perf_counter()
    df = rows(spark, args.rows, args.partitions)
    df.count()  # generate and cache before timing
    print(f"generated {args.rows} rows in {time.perf_counter() - start:.1f} s", flush=True)
    result = {"rows": args.rows, "partitions": args.partitions, "master": spark.sparkContext.master}

    exporter = notebook_exporter(session, bucket, prefix)
    before, start = peak_mb(), time.perf_counter()
    s3_prefix, written = exporter["export_recordio"](df, "parallel")
    result["parallel"] = {"seconds": round(time.perf_counter() - start, 2), "records": written,
                          "bytes": object_bytes(bucket, f"{prefix}/parallel/"),
                          "driver_rss_growth_mb": round(peak_mb() - before, 1)}
    print("parallel", result["parallel"], flush=True)
    if not args.skip_collect:
        before, start = peak_mb(), time.perf_counter()
        size = collect_and_write(df, bucket, f"{prefix}/collected/all.pbr")
        result["collect"] = {"seconds": round(time.perf_counter() - start, 2), "bytes": size,
                             "driver_rss_growth_mb": round(peak_mb() - before, 1)}
        print("collect", result["collect"], flush=True)
        result["identical_content"] = same_records(bucket, f"{prefix}/parallel/", f"{prefix}/collected/all.pbr")
        print("parallel objects concatenated == collected object:", result["identical_content"], flush=True)
    result["peak_rss_mb"] = {"python_driver": round(peak_mb(), 1), "jvm": round(jvm_peak_mb(spark), 1)}
    spark.stop()
    out = ROOT / "build" / "benchmarks" / "recordio_export.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
