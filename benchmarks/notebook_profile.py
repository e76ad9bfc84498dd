"""Where a notebook's time goes: each code cell's duration from the last run's executed copy.

    .venv/bin/python benchmarks/notebook_profile.py [--top 8] [--cells 6] [--out build]

Reads build/executed/**/*.ipynb (papermill records every cell's duration in its metadata;
`make run` or benchmarks/suite_time.py writes them) and prints, for the slowest notebooks,
their slowest cells with the cell's first line, plus the share of the notebook's time
spent in cells that start Spark, import TensorFlow, or wait on a SageMaker job. Nothing is
re-run: profile after `make run` on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
def kind_of(source: str) -> str:
    """What a cell mostly does, from its code (first match wins)."""
    if "getOrCreate" in source or "SparkSession.builder" in source:
        return "Spark start"
    if "import tensorflow" in source or "from keras" in source or "import keras" in source:
        return "TensorFlow"
    if "pyspark" in source or "spark." in source or "F.col" in source or "_df." in source:
        return "Spark work"
    if any(m in source for m in ("sagemaker", "create_training_job", ".deploy(", "transformer", "tuner",
                                 "comprehend", "rekognition", "athena", "lex")):
        return "AWS call (emulated)"
    return "other"


def cell_times(path: Path) -> list[tuple[float, str, str]]:
    nb = nbformat.read(path, as_version=4)
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        seconds = (cell.get("metadata", {}).get("papermill", {}) or {}).get("duration") or 0.0
        kind = kind_of(cell.source)
        first = next((line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")), "")
        found.append((float(seconds), kind, first[:70]))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=8, help="notebooks to show")
    parser.add_argument("--cells", type=int, default=6, help="cells per notebook")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    args = parser.parse_args()
    notebooks = sorted((args.out / "executed").glob("chapter*/*.ipynb"))
    if not notebooks:
        raise SystemExit(f"no executed notebooks under {args.out / 'executed'}: run `make run` first")
    profiles = {p.relative_to(args.out / "executed").as_posix(): cell_times(p) for p in notebooks
                if not p.name.endswith(".input.ipynb")}
    totals = {name: sum(t for t, _, _ in cells) for name, cells in profiles.items()}
    by_kind: dict[str, float] = {}
    for cells in profiles.values():
        for seconds, kind, _ in cells:
            by_kind[kind] = by_kind.get(kind, 0.0) + seconds
    everything = sum(totals.values())
    print(f"{len(profiles)} notebooks, {everything:.0f} s in code cells; by kind of cell:")
    for kind, seconds in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:18} {seconds:7.1f} s  {seconds / everything:5.1%}")
    for name in sorted(totals, key=totals.get, reverse=True)[:args.top]:
        print(f"\n{totals[name]:6.1f} s  {name}")
        for seconds, kind, first in sorted(profiles[name], reverse=True)[:args.cells]:
            print(f"    {seconds:6.1f} s  {kind:18} {first}")
    report = {name: {"seconds": round(totals[name], 1), "cells": [[round(t, 2), k, f] for t, k, f in cells]}
              for name, cells in profiles.items()}
    target = args.out / "benchmarks" / "notebook_profile.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"by_kind": by_kind, "notebooks": report}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
