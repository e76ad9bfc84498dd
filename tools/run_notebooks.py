"""`make run`: execute every notebook offline, then report each way's figures beside the book's.

    python -m tools.run_notebooks [NOTEBOOK ...] [--jobs 2] [--out build]
    python -m tools.run_notebooks --platforms [--out build]   also the platform matrix

With `--platforms`, each platform kernel of tools/platforms.py (`make kernels`) also runs
the notebooks meant for it, and the report shows platform x notebook (tools/matrix.py).

Chapters run in parallel (`--jobs`, one localaws per worker so each notebook's leftovers are
its own), the longest first by the last run's times; a chapter's notebooks run one after
another in reading order. Each notebook runs
with papermill in its own process into build/executed/ (its log in build/logs/, its figures
in build/metrics/). A failing notebook is reported with its error and the others still
run; the exit code says whether all passed. At the end: a table on the terminal and
build/report.html (tools/report.py).
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import queue
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import figures  # noqa: E402
from tools.java import JavaNotFound  # noqa: E402
from tools.notebook_env import prepare_notebook_environment  # noqa: E402


@dataclass
class Result:
    notebook: str  # path relative to the repository
    seconds: float = 0.0
    error: str | None = None
    metrics: dict = field(default_factory=dict)
    leftovers: dict = field(default_factory=dict)
    platform: str = "laptop"    # tools/platforms.py name, or the project's own kernel
    expected: str | None = None  # what the platform must do instead of passing (e.g. stop with the fix)
    skipped: str | None = None   # why this platform could not run here (e.g. its Python is missing)

    @property
    def passed(self) -> bool:
        return not self.error and not self.leftovers and not self.skipped


def discover(patterns: list[str]) -> list[Path]:
    if not patterns:
        return sorted(ROOT.glob("chapter*/[0-9]*.ipynb"))
    found = []
    for pattern in patterns:
        matches = sorted(ROOT.glob(pattern)) or [Path(pattern).resolve()]
        missing = [p for p in matches if not p.exists()]
        if missing:
            raise SystemExit(f"no such notebook: {pattern}")
        found += matches
    return found


DEFAULT_SECONDS = 20.0  # a notebook's guessed time when no earlier run measured it


def longest_first(units: list, previous: Path) -> list:
    """Units ordered by their notebooks' times in the last run (`previous`, its results.json),
    longest first, so that the workers finish close together instead of one of them
    starting the longest chapter last."""
    try:
        seconds = {(r["platform"], r["notebook"]): r["seconds"] for r in json.loads(previous.read_text())}
    except (OSError, ValueError, KeyError, TypeError):
        seconds = {}

    def expected(unit) -> float:
        platform, chapter = unit
        name = "laptop" if platform is None else platform.name
        return sum(seconds.get((name, nb.relative_to(ROOT).as_posix())) or DEFAULT_SECONDS for nb in chapter)

    return sorted(units, key=expected, reverse=True)


def run_one(notebook: Path, out: Path, emulator, platform=None, parameters: dict | None = None) -> Result:
    """Execute one notebook with papermill in its own process, against `emulator`, in the
    project's kernel or in `platform`'s (a tools.platforms.Platform)."""
    from tools import matrix
    from tools.folder_lock import working_in

    name = notebook.relative_to(ROOT).as_posix()
    parameters = dict(parameters or {})
    prerequisite = matrix.prerequisite_for(notebook, platform)
    if prerequisite:
        earlier, output, given_as, file_name = prerequisite
        saved = out / "prerequisites" / (platform.name if platform else "laptop") / file_name
        first = run_one(earlier, out / "prerequisites", emulator, parameters={output: str(saved)})
        if first.error or not saved.exists():
            return Result(name, platform=platform.name if platform else "laptop",
                          error=f"{first.notebook}, which this notebook needs first, failed: {first.error}")
        parameters[given_as] = str(saved)
    chapter = notebook.parent.name
    where = out if platform is None else out / "platforms" / platform.name
    metrics_dir = where / "metrics" / chapter
    executed = where / "executed" / chapter / notebook.name
    log = where / "logs" / chapter / f"{notebook.stem}.log"
    for path in (executed, log):
        path.parent.mkdir(parents=True, exist_ok=True)
    figures.metrics_path(notebook, metrics_dir).unlink(missing_ok=True)
    source = matrix.notebook_for(notebook, platform, executed.with_suffix(".input.ipynb"))
    command = [sys.executable, "-m", "papermill", str(source), str(executed), "--cwd", str(notebook.parent),
               "-k", "python3" if platform is None else platform.kernel,
               "-p", "METRICS_DIR", str(metrics_dir), "--no-progress-bar"]
    for parameter, value in {**matrix.parameters_for(notebook, platform), **parameters}.items():
        command += ["-p", parameter, value]
    started = time.time()
    in_its_folder = platform is None or not platform.emr  # EMR kernels run in a scratch directory
    with log.open("w") as log_file, working_in(notebook.parent if in_its_folder else None):
        status = subprocess.run(command, stdout=log_file, stderr=subprocess.STDOUT,
                                env={**os.environ, **emulator.env, **matrix.kernel_env(platform, emulator)}).returncode
    result = Result(name, seconds=round(time.time() - started, 1), platform=platform.name if platform else "laptop")
    if status:
        shown_error = notebook_error(executed)
        result.error = f"{shown_error[:600]}  (log: {shown(log)})" if shown_error else last_error(log)
    result.metrics = figures.read_metrics(notebook, metrics_dir) or {}
    result.leftovers = leftovers(emulator.url)
    if platform is not None:
        matrix.judge(result, platform, log, executed)
    return result


def shown(path: Path) -> str:
    """A path as the reader can use it: relative to the repository when it is inside."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def notebook_error(executed: Path) -> str | None:
    """The exception the failing cell shows: its error output, or the last line of the rich
    traceback sagemaker-core prints instead (then papermill's own message is empty)."""
    if not executed.exists():
        return None
    found = None
    for cell in json.loads(executed.read_text()).get("cells", []):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found = f"{output.get('ename')}: {output.get('evalue')}"
            text = "".join((output.get("data") or {}).get("text/plain", ""))
            if "Traceback" in text:  # rich's box, then the exception, wrapped over lines
                lines = text.splitlines()
                end = max((i for i, line in enumerate(lines) if "╰" in line), default=-1)
                found = " ".join(line.strip() for line in lines[end + 1:] if line.strip()) or found
    return found


def last_error(log: Path) -> str:
    """The exception line papermill reported, for the summary (the whole log stays on disk)."""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "Exception" in line]
    return (errors[-1] if errors else lines[-1] if lines else "failed")[:300] + f"  (log: {shown(log)})"


def leftovers(base_url: str) -> dict:
    """What the notebook left running; deleted so the next notebook starts clean."""
    from localaws.services import admin

    found = admin(base_url, "leftovers", timeout=30)
    if found:
        admin(base_url, "reset", post=True)
    return found


def table(results: list[Result]) -> str:
    spec = figures.load()
    rows = [("notebook", "way", "metric", "this run", "book", "time")]
    for r in results:
        expected = spec.get(r.notebook, {})
        names = list(expected.get("metrics", {})) or sorted(r.metrics)
        status = "FAILED" if r.error else "LEFTOVERS" if r.leftovers else f"{r.seconds:.0f} s"
        for i, metric in enumerate(names or [""]):
            value = r.metrics.get(metric)
            book = expected.get("metrics", {}).get(metric, {}).get("book")
            shown = "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)
            if figures.spread(r.metrics, metric):
                shown += f" ({figures.spread_text(r.metrics, metric)})"
            rows.append((r.notebook if i == 0 else "", expected.get("way", "") if i == 0 else "", metric, shown,
                         "" if book is None else str(book), status if i == 0 else ""))
    from tools.matrix import aligned

    return aligned(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks or globs (default: every chapter's)")
    parser.add_argument("--jobs", type=int, default=2, help="chapters run at the same time (default 2)")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--platforms", action="store_true",
                        help="also run the platform matrix in the kernels `make kernels` built")
    parser.add_argument("--platform", action="append", default=[], metavar="NAME",
                        help="run only this platform's kernel (repeatable; see python -m tools.platforms list)")
    args = parser.parse_args()
    args.out = args.out.resolve()  # the kernels run in the notebooks' folders: a relative --out would land there
    args.platforms = args.platforms or bool(args.platform)
    notebooks = discover(args.notebooks)
    try:
        prepare_notebook_environment()
    except JavaNotFound as err:
        print(err, file=sys.stderr)
        return 2

    from tqdm import tqdm

    from localaws.emulator import Emulator

    units = [] if args.platform else [(None, list(g)) for _, g in itertools.groupby(notebooks, key=lambda p: p.parent)]
    results: list[Result] = []
    if args.platforms:
        from tools import matrix, platforms

        unknown = set(args.platform) - set(platforms.BY_NAME)
        if unknown:
            raise SystemExit(f"unknown platform {sorted(unknown)[0]!r}: choose from {', '.join(platforms.BY_NAME)}")
        for platform in [platforms.BY_NAME[n] for n in args.platform] or platforms.PLATFORMS:
            meant = matrix.notebooks_for(platform, notebooks)
            reason = platforms.status(platform) if meant else None
            if reason:
                results += [Result(nb.relative_to(ROOT).as_posix(), platform=platform.name, skipped=reason)
                            for nb in meant]
                continue
            units += [(platform, list(group)) for _, group in itertools.groupby(meant, key=lambda p: p.parent)]
    units = longest_first(units, args.out / "results.json")
    workers = max(1, min(args.jobs, len(units)))
    bar = tqdm(total=sum(len(u[1]) for u in units), unit="notebook", file=sys.stderr)
    with ExitStack() as stack:
        free: queue.Queue = queue.Queue()
        for _ in range(workers):
            free.put(stack.enter_context(Emulator()))

        def run_unit(unit) -> list[Result]:
            platform, chapter = unit
            emulator = free.get()
            try:
                done = []
                for notebook in chapter:
                    label = notebook.relative_to(ROOT).as_posix()
                    bar.set_description(label if platform is None else f"{platform.name}: {label}", refresh=True)
                    done.append(run_one(notebook, args.out, emulator, platform))
                    if not done[-1].passed:
                        tqdm.write(f"FAILED {done[-1].platform}: {done[-1].notebook}: "
                                   f"{done[-1].error or done[-1].leftovers}", file=sys.stderr)
                    bar.update()
                return done
            finally:
                free.put(emulator)

        with ThreadPoolExecutor(workers) as pool:
            for future in as_completed([pool.submit(run_unit, u) for u in units]):
                results += future.result()
    bar.close()
    results.sort(key=lambda r: (r.platform != "laptop", r.platform, r.notebook))
    (args.out / "results.json").write_text(json.dumps([asdict(r) for r in results], indent=1))

    from tools import report

    html = report.write(args.out)
    print()
    print(table([r for r in results if r.platform == "laptop"]))
    if args.platforms:
        from tools import matrix

        print("\nplatform matrix (ok = passed; stops = stopped at the SDK check with the install line)\n")
        print(matrix.text_table(results))
    failed = [r for r in results if not r.passed and not r.skipped]
    skipped = [r for r in results if r.skipped]
    for r in failed:
        print(f"\n{r.platform}: {r.notebook}: {r.error or ''} "
              f"{('left running: ' + str(r.leftovers)) if r.leftovers else ''}")
    for reason in sorted({r.skipped for r in skipped}):
        print(f"\nnot run: {reason}")
    print(f"\n{len(results) - len(failed) - len(skipped)} of {len(results)} notebook runs passed, "
          f"{len(skipped)} not run ({sum(r.seconds for r in results):.0f} s of notebook time); report: {html}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
