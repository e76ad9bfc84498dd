"""The Adform click data as SageMaker's XGBoost reads it, shared by chapter 4 (training) and
chapter 14 (tuning): the same features, splits and encoding, so the two chapters' AUCs compare.

The Spark notebooks of both chapters build their features with Spark on the cluster instead.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

HOW_TO_GET = ("run `python data/make_samples.py adform_clicks` "
              "or see `python data/download.py --list` for the full Adform data")


def label_first_splits(path, max_rows: int, top_features: int, random_state: int) -> dict[str, pd.DataFrame]:
    """Train (70 %), validation (10 %) and test (20 %) rows, stratified by click: the click
    first, then the `top_features` one-hot columns (0/1) that chi² ranks highest on the
    training rows. The features are the first hash of each of the five categorical columns."""
    from sklearn.feature_selection import SelectKBest, chi2
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    if not Path(path).exists():
        raise FileNotFoundError(f"{path} not found: {HOW_TO_GET}")
    ctr_df = pd.read_json(path, lines=True, nrows=max_rows)
    features = pd.DataFrame({f"f{i}": ctr_df[f"c{i}"].str[0].fillna(0).astype("int64") for i in range(5)})
    train, rest, y_train, y_rest = train_test_split(features, ctr_df["l"], test_size=0.3,
                                                    random_state=random_state, stratify=ctr_df["l"])
    validation, test, y_validation, y_test = train_test_split(rest, y_rest, test_size=2 / 3,
                                                              random_state=random_state, stratify=y_rest)
    encoder = make_pipeline(OneHotEncoder(handle_unknown="ignore"), SelectKBest(chi2, k=top_features))
    encoder.fit(train, y_train)
    return {name: pd.DataFrame(np.column_stack([y, encoder.transform(X).toarray()]).astype(int))
            for name, X, y in [("train", train, y_train), ("validation", validation, y_validation),
                               ("test", test, y_test)]}


def data_files(prefix: str, session) -> list[str]:
    """The data objects under an S3 prefix, without the markers Spark and Hadoop write
    (`_SUCCESS`, `.crc` files)."""
    from sagemaker.s3 import S3Downloader

    return [uri for uri in S3Downloader.list(prefix, sagemaker_session=session)
            if not uri.rsplit("/", 1)[-1].startswith(("_", "."))]


def read_csv_prefix(prefix: str, session, max_rows: int = 200_000) -> pd.DataFrame:
    """Up to `max_rows` header-less CSV rows from the objects under an S3 prefix, in order: enough
    to score a model on the notebook's machine without copying a full-size dataset to it."""
    from sagemaker.s3 import S3Downloader

    frames, rows = [], 0
    for uri in data_files(prefix, session):
        frames.append(pd.read_csv(io.StringIO(S3Downloader.read_file(uri, sagemaker_session=session)),
                                  header=None, nrows=max_rows - rows))
        rows += len(frames[-1])
        if rows >= max_rows:
            break
    return pd.concat(frames, ignore_index=True)
