"""Boston house prices in the schema of Kaggle's boston-housing `train.csv`.

Real data: the 506 census tracts of Harrison & Rubinfeld (1978), as shipped inside the
`mlxtend` PyPI package. Kaggle's train.csv holds 333 of these rows with the same
columns; we keep all 506 (IDs 1-506) since the competition's row split is not public.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["crim", "zn", "indus", "chas", "nox", "rm", "age", "dis", "rad", "tax",
           "ptratio", "black", "lstat", "medv"]
INTEGER_COLUMNS = ["chas", "rad", "tax"]


def load() -> pd.DataFrame:
    from mlxtend.data import boston_housing_data

    X, y = boston_housing_data()
    frame = pd.DataFrame(np.column_stack([X, y]), columns=COLUMNS).round(6)
    frame[INTEGER_COLUMNS] = frame[INTEGER_COLUMNS].astype(int)
    frame.insert(0, "ID", np.arange(1, len(frame) + 1))
    return frame


def make(out: Path) -> list[Path]:
    path = out / "train.csv"
    load().to_csv(path, index=False, lineterminator="\n")
    return [path]
