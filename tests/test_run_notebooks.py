"""make run's scheduling: the chapters that took longest last time start first."""
from __future__ import annotations

import json
from types import SimpleNamespace

from tools.run_notebooks import DEFAULT_SECONDS, ROOT, longest_first


def _chapter(name: str, count: int) -> list:
    return [ROOT / name / f"{i}_notebook.ipynb" for i in range(1, count + 1)]


def test_units_are_ordered_by_the_last_runs_times_longest_first(tmp_path):
    short, long, unmeasured = _chapter("chapter02_x", 3), _chapter("chapter13_x", 2), _chapter("chapter99_x", 1)
    emr = SimpleNamespace(name="emr-7")
    previous = [{"platform": "laptop", "notebook": nb.relative_to(ROOT).as_posix(), "seconds": 5.0} for nb in short]
    previous += [{"platform": "laptop", "notebook": nb.relative_to(ROOT).as_posix(), "seconds": 40.0} for nb in long]
    previous += [{"platform": "emr-7", "notebook": long[0].relative_to(ROOT).as_posix(), "seconds": 90.0}]
    results = tmp_path / "results.json"
    results.write_text(json.dumps(previous))
    units = [(None, short), (None, long), (None, unmeasured), (emr, long[:1])]
    ordered = longest_first(units, results)
    assert ordered == [(emr, long[:1]), (None, long), (None, unmeasured), (None, short)]
    assert DEFAULT_SECONDS > 3 * 5.0  # the unmeasured chapter's guess placed it before the short one


def test_without_an_earlier_run_the_guess_is_by_notebook_count(tmp_path):
    units = [(None, _chapter("chapter02_x", 1)), (None, _chapter("chapter03_x", 4))]
    assert longest_first(units, tmp_path / "missing.json") == units[::-1]
    (tmp_path / "broken.json").write_text("{not json")
    assert longest_first(units, tmp_path / "broken.json") == units[::-1]
