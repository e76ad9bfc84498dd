"""`make run`: execute every notebook offline and print the figures next to the book's.

    python -m tools.run_notebooks [NOTEBOOK ...] [--out build]

Starts localaws, runs each notebook with papermill into build/executed/ (its figures go
to build/metrics/), and ends with a table: each way's metrics on the sample data beside
the figures the book reports. A failing notebook is reported with its error and the
others still run; the exit code says whether all passed.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import figures  # noqa: E402
from tools.java import JavaNotFound, ensure_java_home  # noqa: E402


@dataclass
class Result:
    notebook: Path
    seconds: float = 0.0
    error: str | None = None
    metrics: dict = field(default_factory=dict)
    leftovers: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.notebook.relative_to(ROOT).as_posix()


def discover(patterns: list[str]) -> list[Path]:
    if patterns:
        found = [p for pattern in patterns for p in sorted(ROOT.glob(pattern)) or [Path(pattern).resolve()]]
    else:
        found = sorted(ROOT.glob("chapter*/[0-9]*.ipynb"))
    missing = [p for p in found if not p.exists()]
    if missing:
        raise SystemExit(f"no such notebook: {', '.join(map(str, missing))}")
    return found


def run_one(notebook: Path, out: Path) -> Result:
    """Execute one notebook with papermill in its own process; its output goes to a log."""
    result = Result(notebook)
    chapter = notebook.parent.name
    metrics_dir = out / "metrics" / chapter
    executed = out / "executed" / chapter / notebook.name
    log = out / "logs" / chapter / f"{notebook.stem}.log"
    for path in (executed, log):
        path.parent.mkdir(parents=True, exist_ok=True)
    stale = figures.metrics_path(notebook, metrics_dir)
    stale.unlink(missing_ok=True)
    started = time.time()
    with log.open("w") as log_file:
        status = subprocess.run(
            [sys.executable, "-m", "papermill", str(notebook), str(executed), "--cwd", str(notebook.parent),
             "-k", "python3", "-p", "METRICS_DIR", str(metrics_dir), "--no-progress-bar"],
            stdout=log_file, stderr=subprocess.STDOUT).returncode
    result.seconds = time.time() - started
    if status:
        result.error = last_error(log)
    result.metrics = figures.read_metrics(notebook, metrics_dir) or {}
    result.leftovers = emulator_leftovers()
    return result


def last_error(log: Path) -> str:
    """The exception line papermill reported, for the summary (the whole log stays on disk)."""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "Exception" in line]
    return (errors[-1] if errors else lines[-1] if lines else "failed")[:300] + f"  (log: {log})"


def emulator_leftovers() -> dict:
    import urllib.request

    base = os.environ["LOCALAWS_ENDPOINT"]
    with urllib.request.urlopen(f"{base}/_localaws/leftovers", timeout=30) as response:
        found = json.loads(response.read())
    if found:
        urllib.request.urlopen(urllib.request.Request(f"{base}/_localaws/reset", method="POST"), timeout=30)
    return found


def table(results: list[Result]) -> str:
    spec = figures.load()
    rows = [("notebook", "way", "metric", "this run", "book", "time")]
    for r in results:
        expected = spec.get(r.name, {})
        names = list(expected.get("metrics", {})) or sorted(r.metrics)
        status = "FAILED" if r.error else f"{r.seconds:.0f} s"
        if not names:
            rows.append((r.name, expected.get("way", ""), "", "", "", status))
        for i, metric in enumerate(names):
            value = r.metrics.get(metric)
            book = expected.get("metrics", {}).get(metric, {}).get("book")
            rows.append((r.name if i == 0 else "", expected.get("way", "") if i == 0 else "", metric,
                         "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value),
                         "" if book is None else f"{book}", status if i == 0 else ""))
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks or globs (default: every chapter's)")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    args = parser.parse_args()
    notebooks = discover(args.notebooks)
    try:
        ensure_java_home()
    except JavaNotFound as err:
        print(err, file=sys.stderr)
        return 2
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

    from tqdm import tqdm

    from localaws.emulator import Emulator

    results = []
    with Emulator() as emulator:
        emulator.export()
        bar = tqdm(notebooks, unit="notebook", file=sys.stderr)
        for notebook in bar:
            bar.set_description(notebook.relative_to(ROOT).as_posix())
            results.append(run_one(notebook, args.out))
            if results[-1].error:
                tqdm.write(f"FAILED {results[-1].name}: {results[-1].error}", file=sys.stderr)
    summary = {r.name: {"seconds": round(r.seconds, 1), "error": r.error, "metrics": r.metrics,
                        "leftovers": r.leftovers} for r in results}
    (args.out / "results.json").write_text(json.dumps(summary, indent=1))
    print()
    print(table(results))
    failed = [r for r in results if r.error or r.leftovers]
    for r in failed:
        print(f"\n{r.name}: {r.error or ''} {('left running: ' + str(r.leftovers)) if r.leftovers else ''}")
    print(f"\n{len(results) - len(failed)} of {len(results)} notebooks passed in "
          f"{sum(r.seconds for r in results):.0f} s; executed copies in {args.out / 'executed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
