"""Whole-suite and per-notebook time: `make run` timed, slowest notebooks first.

    .venv/bin/python benchmarks/suite_time.py [--jobs 2] [--budget 90] [NOTEBOOK ...]

Runs tools/run_notebooks.py (every notebook offline, chapters in parallel) as a child
process, then reads its build/results.json and prints the wall time, the notebook time
summed, and each notebook's time with those over the budget (90 s by default) marked.
The figures go to build/benchmarks/suite_time.json too. `make test` adds the unit tests
to this; its own summary prints the same per-notebook table.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks or globs (default: all)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--budget", type=float, default=90.0, help="seconds a notebook may take")
    args = parser.parse_args()

    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "tools.run_notebooks", "--jobs", str(args.jobs), *args.notebooks],
                         cwd=ROOT, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    results = json.loads((ROOT / "build" / "results.json").read_text())

    slowest = sorted(results, key=lambda r: r["seconds"], reverse=True)
    over = [r for r in results if r["seconds"] > args.budget]
    print(f"{len(results)} notebooks, {os.cpu_count()} CPUs, --jobs {args.jobs}: "
          f"{wall:.0f} s wall, {sum(r['seconds'] for r in results):.0f} s of notebook time")
    for r in slowest:
        flag = "  OVER BUDGET" if r in over else ("  FAILED" if r["error"] or r["leftovers"] else "")
        print(f"{r['seconds']:7.1f} s  {r['notebook']}{flag}")
    out = ROOT / "build" / "benchmarks" / "suite_time.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"wall_seconds": round(wall, 1), "jobs": args.jobs, "cpus": os.cpu_count(),
                               "notebooks": {r["notebook"]: round(r["seconds"], 1) for r in results}}, indent=1))
    return run.returncode or (1 if over else 0)


if __name__ == "__main__":
    sys.exit(main())
