"""How `make test` spreads its work over pytest-xdist's workers: longest first.

A scope is what one worker runs in order: a chapter's notebooks under nbval (they share a
kernel per notebook and files in work/), a test file, or one notebook of the platform matrix
in one platform kernel. Scopes are handed out longest first (as tools/run_notebooks.py hands
out chapters), so that no long scope starts last while the other worker idles: with
pytest-xdist's own order (most tests first) the platform matrix, a few long tests, came last
and one worker waited over two minutes for the other.

The seconds come from this checkout's last run (build/scope_seconds.json, written at the end
of every `make test`), else from the snapshot committed in tests/scope_seconds.json (all of a
fresh clone's), else from the number of tests. They only order the work; a wrong figure costs time,
never a result.

    python -m tools.test_order snapshot   copy this checkout's last figures to tests/
"""
from __future__ import annotations

import json
import sys
from collections import OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAST_RUN = ROOT / "build" / "scope_seconds.json"
SNAPSHOT = ROOT / "tests" / "scope_seconds.json"
UNKNOWN_TEST_SECONDS = 0.5


def scope(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    if "::test_notebook_on_platform[" in nodeid:  # tests/test_platform_matrix.py: one notebook, one kernel
        return nodeid
    return path.rsplit("/", 1)[0] if path.endswith(".ipynb") else path


def known_seconds() -> dict[str, float]:
    """The committed snapshot, overridden by this checkout's last run where it ran a scope."""
    seconds: dict[str, float] = {}
    for source in (SNAPSHOT, LAST_RUN):
        try:
            seconds.update(json.loads(source.read_text()))
        except (OSError, ValueError):
            continue
    return seconds


def longest_first(workqueue: "OrderedDict[str, dict]") -> "OrderedDict[str, dict]":
    seconds = known_seconds()
    estimate = {unit: seconds.get(unit, UNKNOWN_TEST_SECONDS * len(tests)) for unit, tests in workqueue.items()}
    return OrderedDict(sorted(workqueue.items(), key=lambda item: -estimate[item[0]]))


def record(durations: dict[str, float]) -> None:
    """Keep this run's seconds per scope, over the last run's where this one ran a part."""
    merged = {}
    try:
        merged = json.loads(LAST_RUN.read_text())
    except (OSError, ValueError):
        pass
    merged.update({unit: round(seconds, 1) for unit, seconds in durations.items()})
    LAST_RUN.parent.mkdir(parents=True, exist_ok=True)
    LAST_RUN.write_text(json.dumps(dict(sorted(merged.items())), indent=0) + "\n")


def main(argv: list[str]) -> int:
    if argv != ["snapshot"]:
        print(__doc__)
        return 2
    if not LAST_RUN.exists():
        print(f"no {LAST_RUN.relative_to(ROOT)}: run make test first", file=sys.stderr)
        return 1
    SNAPSHOT.write_text(LAST_RUN.read_text())
    print(f"wrote {SNAPSHOT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
