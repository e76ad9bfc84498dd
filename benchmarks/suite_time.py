"""Whole-suite and per-notebook time: `make run` timed, slowest notebooks first.

    .venv/bin/python benchmarks/suite_time.py [--jobs 2] [--budget 45] [NOTEBOOK ...]

First the machine: its CPUs, its load and a CPU probe (a fixed computation's time, which
shows how fast a shared host is at the moment). Then it runs tools/run_notebooks.py (every
notebook offline, chapters in parallel) as a child process, reads its build/results.json
and prints the wall time, the notebook time summed, how busy the CPUs were, and each
notebook's time with those over the budget (45 s by default) marked.
The figures go to build/benchmarks/suite_time.json too. `make test` adds the unit tests
to this; its own summary prints the same per-notebook table.

Then the round's comparison: each goal of issue 19 with the previous round's figure
(benchmarks/previous_round.json, which names its source), this round's and their ratio.
This round's come from this run and from the last results of the other benchmarks in
build/benchmarks/ (run recordio_export.py --rows 1000000 --skip-collect,
spark_click_scale.py and emulator_overhead.py first); `--setup-seconds` and
`--test-seconds` take the times of `make setup` and `make test` from a fresh clone, which
this script cannot measure without cloning. Last, `make test`'s work split into the
platform kernels' tests, the notebooks under nbval and the other tests, from its last run here.
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
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks or globs (default: all)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--budget", type=float, default=45.0, help="seconds a notebook may take")
    parser.add_argument("--setup-seconds", type=float, help="make setup's time from a fresh clone")
    parser.add_argument("--test-seconds", type=float, help="make test's time from a fresh clone")
    args = parser.parse_args()

    probe = cpu_probe_seconds()
    load = f"load {os.getloadavg()[0]:.2f}, " if hasattr(os, "getloadavg") else ""
    print(f"machine: {os.cpu_count()} CPUs, {load}CPU probe {probe:.3f} s "
          "(a fixed computation; on a shared host it shows how fast this machine is today)", flush=True)
    busy_before = cpu_busy_seconds()
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "tools.run_notebooks", "--jobs", str(args.jobs), *args.notebooks],
                         check=False, cwd=ROOT, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    busy = cpu_busy_seconds() - busy_before if busy_before is not None else None
    results = json.loads((ROOT / "build" / "results.json").read_text())

    slowest = sorted(results, key=lambda r: r["seconds"], reverse=True)
    over = [r for r in results if r["seconds"] > args.budget]
    print(f"{len(results)} notebooks, {os.cpu_count()} CPUs, --jobs {args.jobs}: "
          f"{wall:.0f} s wall, {sum(r['seconds'] for r in results):.0f} s of notebook time"
          + (f", the CPUs {busy / (wall * os.cpu_count()):.0%} busy" if busy is not None else ""))
    for r in slowest:
        flag = "  OVER BUDGET" if r in over else ("  FAILED" if r["error"] or r["leftovers"] else "")
        print(f"{r['seconds']:7.1f} s  {r['notebook']}{flag}")
    out = ROOT / "build" / "benchmarks" / "suite_time.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"wall_seconds": round(wall, 1), "jobs": args.jobs, "cpus": os.cpu_count(),
                               "cpu_probe_seconds": round(probe, 3),
                               "cpu_busy_seconds": None if busy is None else round(busy, 1),
                               "notebooks": {r["notebook"]: round(r["seconds"], 1) for r in results}}, indent=1))
    whole = not args.notebooks  # only a run of every notebook is `make run`'s figure
    now = {"make_run_wall_seconds": wall if whole else None,
           "make_run_notebook_seconds": sum(r["seconds"] for r in results) if whole else None,
           "slowest_notebook_seconds": slowest[0]["seconds"] if slowest and whole else None,
           "make_setup_seconds": args.setup_seconds, "make_test_seconds": args.test_seconds, **other_benchmarks()}
    print()
    print(comparison(json.loads((ROOT / "benchmarks" / "previous_round.json").read_text()), now))
    split = test_work()
    if split:
        print("\nmake test's last run in this checkout (build/scope_seconds.json), seconds of work "
              "summed over its workers: " + ", ".join(f"{part} {seconds:.0f}" for part, seconds in split.items()))
    return run.returncode or (1 if over else 0)


def cpu_probe_seconds(repeat: int = 5) -> float:
    """The median time of a fixed pure-Python computation. The same code on the same machine
    took 277 s one morning and 325 s that afternoon, with emulator_overhead.py's bare fit 0.15 s
    then 0.21 s: the host's speed varies, and this figure says by how much between two runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        total = 0
        for i in range(3_000_000):
            total += i % 7
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def cpu_busy_seconds() -> float | None:
    """CPU seconds spent by the whole machine so far (Linux's /proc/stat), or None elsewhere."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


GOALS = [  # (figure, what it is, issue 19's goal)
    ("make_run_wall_seconds", "make run, wall", 300),
    ("make_run_notebook_seconds", "make run, notebook time summed", None),
    ("slowest_notebook_seconds", "slowest notebook", 45),
    ("make_setup_seconds", "make setup from a fresh clone", 90),
    ("make_test_seconds", "make test from a fresh clone", 600),
    ("recordio_export_1m_seconds", "chapter 6 recordIO export, 1M rows", 120),
    ("spark_click_scale_1m_notebook_path_seconds", "chapter 4 Spark path, 1M rows", 60),
    ("emulator_overhead_seconds", "emulator overhead per job", 0.2),
]


def other_benchmarks() -> dict:
    """This round's figures from the other benchmarks' last results, where they were run."""
    found = {}
    folder = ROOT / "build" / "benchmarks"

    def read(name):
        try:
            return json.loads((folder / name).read_text())
        except (OSError, ValueError):
            return None

    recordio = read("recordio_export.json")
    if recordio and recordio.get("rows") == 1_000_000:
        found["recordio_export_1m_seconds"] = recordio["parallel"]["seconds"]
    clicks = read("spark_click_scale.json") or []
    for run in clicks:
        if run.get("rows") == 1_000_000:
            found["spark_click_scale_1m_notebook_path_seconds"] = run.get("notebook_path_seconds")
    overhead = read("emulator_overhead.json")
    if overhead:
        found["emulator_overhead_seconds"] = overhead.get("overhead_s")
    return found


PLATFORM_TESTS = ("tests/test_platform_matrix.py", "tests/test_emr_kernel.py", "tests/test_platform_requirements.py")


def test_work() -> dict[str, float]:
    """make test's work by part: the platform kernels' tests, the notebooks under nbval, the rest."""
    from tools import test_order

    try:
        seconds = json.loads(test_order.LAST_RUN.read_text())
    except (OSError, ValueError):
        return {}
    parts = {"platform kernels": 0.0, "notebooks (nbval)": 0.0, "other tests": 0.0}
    for unit, spent in seconds.items():
        part = ("platform kernels" if unit.startswith(PLATFORM_TESTS)
                else "notebooks (nbval)" if unit.startswith("chapter") else "other tests")
        parts[part] += spent
    return parts


def comparison(previous: dict, now: dict) -> str:
    from tools.matrix import aligned

    rows = [("figure (seconds)", "previous round", "this round", "ratio", "goal", "met")]
    for key, title, goal in GOALS:
        before, after = previous.get(key), now.get(key)
        shown_before = previous.get(key.replace("_seconds", "_note")) if before is None else f"{before:g}"
        rows.append((title, shown_before or "-", "-" if after is None else f"{after:.3g}",
                     f"{after / before:.2f}" if before and after is not None else "-",
                     "-" if goal is None else f"<= {goal:g}",
                     "-" if goal is None or after is None else ("yes" if after <= goal else "NO")))
    return f"Issue 19's goals ({previous.get('_source', '')}):\n" + aligned(rows)


if __name__ == "__main__":
    sys.exit(main())
