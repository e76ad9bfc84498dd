"""How much time localaws adds to a training job over the bare algorithm fit.

    python benchmarks/emulator_overhead.py [--rows 20000] [--features 20] [--repeat 5]

For each repeat it times (a) the algorithm's own `train()` on local files, in-process,
and (b) the whole SageMaker SDK `Estimator.fit()` against localaws: CreateTrainingJob,
S3 download, the same `train()`, model.tar.gz upload, CloudWatch logs, the SDK's status
and log polling. Overhead = (b) - (a); the goal is at most 0.2 s. Deploy + one prediction
and a batch transform are timed too. Results go to build/benchmarks/emulator_overhead.json.
"""
from __future__ import annotations

import argparse
import json
import os
import runpy
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from localaws.emulator import Emulator
    from localaws.sagemaker.algorithms import linear_learner as ll
    from localaws.sagemaker.algorithms.base import Channel, parse_hyperparameters

    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.rows, args.features))
    y = X @ rng.normal(size=args.features) + rng.normal(scale=0.5, size=args.rows)
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    (work / "train").mkdir()
    np.savetxt(work / "train" / "train.csv", np.column_stack([y, X]), delimiter=",", fmt="%.6g")
    np.savetxt(work / "features.csv", X[:1000], delimiter=",", fmt="%.6g")
    raw_hp = {"predictor_type": "regressor", "feature_dim": str(args.features), "mini_batch_size": "100"}

    with Emulator() as emulator:
        emulator.export()
        runpy.run_path(str(emulator.BOOT_DIR / "sitecustomize.py"))  # the SDK polls as in notebooks
        import sagemaker
        from sagemaker import image_uris
        from sagemaker.estimator import Estimator
        from sagemaker.inputs import TrainingInput
        from sagemaker.serializers import CSVSerializer

        session = sagemaker.Session()
        bucket = session.default_bucket()
        train_uri = session.upload_data(str(work / "train" / "train.csv"), bucket, "bench/train")
        features_uri = session.upload_data(str(work / "features.csv"), bucket, "bench/features")
        image = image_uris.retrieve("linear-learner", session.boto_region_name)

        bare, job, deploy, transform = [], [], [], []
        for i in range(args.repeat + 1):  # the first round warms imports and is not counted
            hp = parse_hyperparameters(ll.HYPERPARAMETERS, raw_hp)
            started = time.perf_counter()
            ll.train({"train": Channel("train", work / "train", "text/csv")}, hp, work / f"model{i}", lambda _: None)
            t_bare = time.perf_counter() - started

            estimator = Estimator(image, os.environ["SAGEMAKER_ROLE_ARN"], instance_count=1,
                                  instance_type="ml.m5.large", sagemaker_session=session,
                                  output_path=f"s3://{bucket}/bench/out")
            estimator.set_hyperparameters(**raw_hp)
            started = time.perf_counter()
            estimator.fit({"train": TrainingInput(train_uri, content_type="text/csv")}, logs="None")
            t_job = time.perf_counter() - started

            started = time.perf_counter()
            predictor = estimator.deploy(1, "ml.m5.large", serializer=CSVSerializer())
            predictor.predict(X[:1])
            t_deploy = time.perf_counter() - started

            started = time.perf_counter()
            transformer = estimator.transformer(1, "ml.m5.large", output_path=f"s3://{bucket}/bench/pred{i}")
            transformer.transform(features_uri, content_type="text/csv", split_type="Line", logs=False)
            t_transform = time.perf_counter() - started
            predictor.delete_model()
            predictor.delete_endpoint()
            session.delete_model(transformer.model_name)
            if i:
                bare.append(t_bare), job.append(t_job), deploy.append(t_deploy), transform.append(t_transform)

    result = {
        "rows": args.rows, "features": args.features, "repeat": args.repeat,
        "bare_fit_s": statistics.median(bare), "sdk_fit_s": statistics.median(job),
        "overhead_s": statistics.median(j - b for j, b in zip(job, bare)),
        "deploy_and_predict_s": statistics.median(deploy), "transform_1000_rows_s": statistics.median(transform),
    }
    out = ROOT / "build" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / "emulator_overhead.json").write_text(json.dumps(result, indent=1))
    print(f"linear-learner, {args.rows} rows x {args.features} features, median of {args.repeat}:")
    print(f"  bare train()        {result['bare_fit_s']:.2f} s")
    print(f"  SDK fit via localaws {result['sdk_fit_s']:.2f} s")
    print(f"  overhead            {result['overhead_s']:.2f} s   (goal <= 0.2 s)")
    print(f"  deploy + 1 predict  {result['deploy_and_predict_s']:.2f} s")
    print(f"  transform 1000 rows {result['transform_1000_rows_s']:.2f} s")
    return 0 if result["overhead_s"] <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
