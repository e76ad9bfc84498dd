"""What each notebook reports: the book's figure and the band the tests accept.

One YAML file per chapter (tools/figures/chapterNN.yml), keyed by notebook path:

    chapter03_regression/1_sklearn_linear_regression.ipynb:
      way: scikit-learn LinearRegression
      metrics:
        r2: {book: 0.695, min: 0.55, max: 0.90}
"""
from __future__ import annotations

import json
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def load() -> dict[str, dict]:
    spec: dict[str, dict] = {}
    for path in sorted(HERE.glob("chapter*.yml")):
        spec.update(yaml.safe_load(path.read_text()) or {})
    return spec


def metrics_path(notebook: Path, metrics_dir: Path | None = None) -> Path:
    """Where a notebook's metrics cell writes (its METRICS_DIR default is 'metrics')."""
    return (metrics_dir or notebook.parent / "metrics") / f"{notebook.stem}.json"


def read_metrics(notebook: Path, metrics_dir: Path | None = None) -> dict | None:
    path = metrics_path(notebook, metrics_dir)
    return json.loads(path.read_text()) if path.exists() else None


def spread(measured: dict, name: str) -> dict | None:
    """{"mean", "std", "splits"} when the notebook also scored `name` over repeated splits
    (it records them as `<name>_over_splits`), else None."""
    value = measured.get(f"{name}_over_splits")
    return value if isinstance(value, dict) and {"mean", "std", "splits"} <= set(value) else None


def spread_text(measured: dict, name: str) -> str:
    found = spread(measured, name)
    return "" if not found else f"{found['mean']:.3f} ± {found['std']:.3f} over {found['splits']} splits"


def book_against_spread(book: float | None, measured: dict, name: str) -> str:
    """Where the book's figure falls in this run's spread: within two standard deviations of
    the mean is a typical result of one split; beyond, the book's split (or data) was unusual."""
    found = spread(measured, name)
    if book is None or not found or not found["std"]:
        return ""
    z = (book - found["mean"]) / found["std"]
    return f"typical (z = {z:+.1f})" if abs(z) <= 2 else f"{'high' if z > 0 else 'low'} for one split (z = {z:+.1f})"


def out_of_band(expected: dict, measured: dict) -> list[str]:
    """Messages for each expected metric that is missing or outside its band."""
    problems = []
    for name, band in expected.get("metrics", {}).items():
        value = measured.get(name)
        if value is None:
            problems.append(f"{name}: not recorded")
        elif not band.get("min", float("-inf")) <= value <= band.get("max", float("inf")):
            problems.append(f"{name} = {value} is outside [{band.get('min')}, {band.get('max')}]")
    return problems
