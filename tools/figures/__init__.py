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
