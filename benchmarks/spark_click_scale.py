"""Chapter 4's Spark pipeline at scale: wall time and peak driver memory for N click rows.

    python benchmarks/spark_click_scale.py [--rows 100000 1000000] [--master local[2]]

For each N it (1) has Spark generate N synthetic Adform impressions
(data/generators/adform_clicks.py), each task writing its own gzipped JSON-lines part, so
no row passes through the driver; (2) runs what notebook
chapter04_trees/2_spark_decision_tree_random_forest.ipynb runs: first values of c0…c4,
repartition + cache, an 80/20 split, StringIndexer + OneHotEncoder + VectorAssembler, a
chi-squared test of every one-hot column, the 100 columns with the largest statistic
(VectorSlicer), a random forest with Spark's defaults, AUC on the test rows, and the
label-first CSV export. No row is collected: the driver sees counts, the fitted models,
the test's one row per one-hot column, and one metric.

It also reports what `UnivariateFeatureSelector` (the successor of the book's
`ChiSqSelector`) would keep: it ranks by p-value, and once p-values underflow to 0 it
breaks the ties by column index; its forest's AUC is measured too, for comparison.

Reported per N: the headline, seconds of the notebook's own path (NOTEBOOK_STEPS: read +
cache to the CSV export, without the generation and the comparison forest); seconds per
step; the driver JVM's peak resident memory (VmHWM from /proc, Linux only) and Spark's own
peak JVM heap for the driver (its REST API, when the UI is on); the Python driver's peak
RSS (ru_maxrss, cumulative over the N's of one run). Each N runs in a fresh JVM with the
project's Spark settings (tools/spark-conf, as make run uses them). Results go to
build/benchmarks/spark_click_scale.json.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "data" / "generators" / "adform_clicks.py"
sys.path.insert(0, str(GENERATOR.parent))
sys.path.insert(0, str(ROOT))

import adform_clicks  # noqa: E402  (shipped to the Python workers with addPyFile below)

ROWS_PER_PART = 50_000
# the headline: the steps the notebook itself runs, from reading the JSON to the CSV export
# (not the data generation, nor the p-value selector's second forest, kept for comparison)
NOTEBOOK_STEPS = ("read + cache", "encoding fit (indexers, one-hot)", "chi-squared test of every column",
                  "encode + cache (by_statistic)", "random forest fit (by_statistic)",
                  "AUC on test rows (by_statistic)", "label-first CSV export")
TOP = 100


def generate(spark, rows: int, folder: Path) -> None:
    """`rows` impressions as gzipped JSON-lines parts, written by the executors."""
    parts = max(1, -(-rows // ROWS_PER_PART))
    sizes = [min(ROWS_PER_PART, rows - i * ROWS_PER_PART) for i in range(parts)]
    spark.sparkContext.parallelize(list(enumerate(sizes)), parts) \
        .flatMap(lambda part: adform_clicks.lines(part[1], seed=1_000 + part[0])) \
        .saveAsTextFile(str(folder), compressionCodecClass="org.apache.hadoop.io.compress.GzipCodec")


def encoding_stages():
    from pyspark.ml.feature import OneHotEncoder, StringIndexer, VectorAssembler

    columns = [f"f{i}" for i in range(5)]
    indexed, encoded = [c + "_index" for c in columns], [c + "_encoded" for c in columns]
    return [StringIndexer(inputCols=columns, outputCols=indexed, handleInvalid="keep"),
            OneHotEncoder(inputCols=indexed, outputCols=encoded),
            VectorAssembler(inputCols=encoded, outputCol="features")]


def per_feature(selected, encoding_model) -> dict[str, int]:
    """How many of the selected one-hot columns come from each of f0…f4."""
    widths = [size - 1 for size in encoding_model.stages[1].categorySizes]
    starts = [sum(widths[:i]) for i in range(len(widths))]
    return {f"f{i}": sum(start <= j < start + width for j in selected)
            for i, (start, width) in enumerate(zip(starts, widths))}


def jvm_peak_rss_mb(spark) -> float | None:
    """The driver JVM's high-water mark of resident memory (Linux /proc)."""
    pid = spark.sparkContext._gateway.proc.pid  # the JVM pyspark launched for this session
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        return None
    return None


def spark_peak_heap_mb(spark) -> float | None:
    """Spark's own record of the driver's peak JVM heap (executor metrics, REST API)."""
    sc = spark.sparkContext
    if not sc.uiWebUrl:  # the UI is off (spark.ui.enabled=false, as tools/spark-conf sets): no REST API
        return None
    try:
        url = f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}/executors"
        with urllib.request.urlopen(url, timeout=10) as response:
            executors = json.loads(response.read())
    except OSError:
        return None
    peaks = [e.get("peakMemoryMetrics", {}).get("JVMHeapMemory") for e in executors if e.get("id") == "driver"]
    return round(peaks[0] / 2**20) if peaks and peaks[0] else None


@contextmanager
def timed(steps: dict, name: str):
    start = time.perf_counter()
    yield
    steps[name] = round(time.perf_counter() - start, 1)
    print(f"  {name:<34} {steps[name]:7.1f} s", flush=True)


def run(rows: int, master: str, partitions: int, work: Path) -> dict:
    from pyspark.ml import Pipeline, PipelineModel
    from pyspark.ml.classification import RandomForestClassifier
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.ml.feature import VectorSlicer
    from pyspark.ml.functions import vector_to_array
    from pyspark.ml.stat import ChiSquareTest
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = SparkSession.builder.master(master).appName(f"click-scale-{rows}").getOrCreate()  # tools/spark-conf
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.addPyFile(str(GENERATOR))
    steps: dict[str, float] = {}
    folder = work / f"clicks-{rows}"
    print(f"{rows:,} rows on {master}", flush=True)
    start = time.perf_counter()
    with timed(steps, "generate (executors)"):
        generate(spark, rows, folder)
    with timed(steps, "read + cache"):
        schema = ", ".join([f"c{i} array<bigint>" for i in range(10)] + ["l bigint"])  # no inference pass
        df = (spark.read.json(str(folder), schema=schema)
              .selectExpr(*[f"coalesce(c{i}[0], 0) as f{i}" for i in range(5)], "l as click")
              .repartition(partitions).cache())
        counted = df.count()
    train_df, test_df = df.randomSplit([0.8, 0.2], seed=17)
    with timed(steps, "encoding fit (indexers, one-hot)"):
        encoding_model = Pipeline(stages=encoding_stages()).fit(train_df)
    with timed(steps, "chi-squared test of every column"):
        # one row per one-hot column, whatever the number of rows: small enough for pandas
        tests = ChiSquareTest.test(encoding_model.transform(train_df), "features", "click", flatten=True).toPandas()
        by_statistic = sorted(int(i) for i in tests.nlargest(TOP, "statistic")["featureIndex"])
        # what UnivariateFeatureSelector(numTopFeatures) keeps: sorted by p-value, then column index
        by_p_value = sorted(int(i) for i in tests.sort_values(["pValue", "featureIndex"])["featureIndex"].head(TOP))
        p_value_zero = int((tests["pValue"] == 0).sum())
    aucs = {}
    for name, selected in [("by_statistic", by_statistic), ("by_p_value", by_p_value)]:
        feature_model = PipelineModel(encoding_model.stages + [
            VectorSlicer(inputCol="features", outputCol="selected_features", indices=selected)])
        with timed(steps, f"encode + cache ({name})"):
            train_encoded = feature_model.transform(train_df).select("click", "selected_features").cache()
            test_encoded = feature_model.transform(test_df).select("click", "selected_features").cache()
            train_rows, test_rows = train_encoded.count(), test_encoded.count()
        with timed(steps, f"random forest fit ({name})"):
            forest = RandomForestClassifier(labelCol="click", featuresCol="selected_features", seed=17) \
                .fit(train_encoded)
        with timed(steps, f"AUC on test rows ({name})"):
            aucs[name] = round(BinaryClassificationEvaluator(labelCol="click", rawPredictionCol="probability")
                               .evaluate(forest.transform(test_encoded)), 4)
        if name == "by_statistic":
            with timed(steps, "label-first CSV export"):
                values = vector_to_array("selected_features")
                test_encoded.select(F.col("click").cast("int"), *[values[i].cast("int") for i in range(TOP)]) \
                    .write.csv(str(work / f"export-{rows}"), header=False, mode="overwrite")
        train_encoded.unpersist()
        test_encoded.unpersist()
    wall = time.perf_counter() - start
    result = {
        "rows": counted, "train_rows": train_rows, "test_rows": test_rows, "master": master,
        "partitions": partitions, "one_hot_columns": sum(s - 1 for s in encoding_model.stages[1].categorySizes),
        "distinct_f4": len(encoding_model.stages[0].labelsArray[4]),
        "rf_auc": aucs["by_statistic"], "rf_auc_univariate_feature_selector": aucs["by_p_value"],
        "columns_with_p_value_0": p_value_zero,
        "selected_per_feature": per_feature(by_statistic, encoding_model),
        "univariate_feature_selector_per_feature": per_feature(by_p_value, encoding_model),
        "wall_seconds": round(wall, 1), "steps_seconds": steps,
        "notebook_path_seconds": round(sum(v for k, v in steps.items() if k in NOTEBOOK_STEPS), 1),
        "driver_jvm_peak_rss_mb": jvm_peak_rss_mb(spark), "driver_jvm_peak_heap_mb": spark_peak_heap_mb(spark),
    }
    spark.stop()
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(work / f"export-{rows}", ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "benchmarks" / "spark_click_scale.json")
    args = parser.parse_args()

    from tools.notebook_env import prepare_notebook_environment

    prepare_notebook_environment()  # Java, this venv's Python for the workers, tools/spark-conf as make run
    work = Path(tempfile.mkdtemp(prefix="click-scale-"))
    results = []
    try:
        for rows in args.rows:
            result = run(rows, args.master, args.partitions, work)
            result["python_driver_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            results.append(result)
            print(json.dumps(result, indent=2), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"\n{'rows':>10} {'notebook path s':>16} {'wall s':>7} {'JVM peak RSS MB':>16} {'JVM peak heap MB':>17} {'Python MB':>10} "
          f"{'AUC':>7} {'AUC (p-value ties)':>19}")
    for r in results:
        print(f"{r['rows']:>10,} {r['notebook_path_seconds']:>16} {r['wall_seconds']:>7} {r['driver_jvm_peak_rss_mb'] or '-':>16} "
              f"{r['driver_jvm_peak_heap_mb'] or '-':>17} {r['python_driver_peak_rss_mb']:>10} "
              f"{r['rf_auc']:>7} {r['rf_auc_univariate_feature_selector']:>19}")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
