"""The executed copies under executed/ (tools/published.py): one per lesson, current with
its lesson, linked from its title, free of machine paths, and the check bites when any
of that is broken (issue 20: nothing to see on GitHub without running)."""
from __future__ import annotations

import nbformat
import pytest

from tools import published
from tools.matrix import is_emr_cell
from tools.notebooks import ROOT, all_notebooks

LESSONS = all_notebooks()
LESSON = ROOT / "chapter03_regression" / "4_spark_logistic_regression_tweets.ipynb"  # has emr cells and a plot


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_lesson_has_a_current_executed_copy_linked_from_its_title(lesson):
    assert published.problems(lesson) == []
    title = nbformat.read(lesson, as_version=4).cells[0].source
    assert f"]({published.link_to_copy(lesson)})" in title
    assert (lesson.parent / published.link_to_copy(lesson)).resolve() == published.copy_path(lesson)


def fake_run(tmp_path, lesson=LESSON, machine_path=str(ROOT)):
    """What `make run` leaves in build/executed: the emr cells gone, papermill's injected
    parameters after the parameters cell, an output per code cell."""
    nb = nbformat.read(lesson, as_version=4)
    nb.cells = [c for c in nb.cells if not is_emr_cell(c)]
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])) + 1
    injected = nbformat.v4.new_code_cell(f'METRICS_DIR = "{machine_path}/build/metrics"')
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(at, injected)
    for number, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = number + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"cell {number} at {machine_path}/x\n")]
    target = tmp_path / "build" / "executed" / lesson.parent.name / lesson.name
    target.parent.mkdir(parents=True)
    nbformat.write(nb, target)
    return tmp_path / "build"


def test_build_takes_the_lessons_text_and_the_runs_outputs(tmp_path, monkeypatch):
    monkeypatch.setattr(published, "FOLDER", tmp_path / "executed")
    assert published.build(fake_run(tmp_path), [LESSON]) == []
    copy = nbformat.read(published.copy_path(LESSON), as_version=4)
    lesson = nbformat.read(LESSON, as_version=4)
    assert copy.cells[1].metadata["tags"] == [published.NOTE_TAG]
    assert [c.source for c in copy.cells[2:]] == [c.source for c in lesson.cells[1:]]
    assert copy.cells[0].source == lesson.cells[0].source.split("\n\n**Outputs without running:**")[0]
    assert "../executed/" not in copy.cells[0].source  # the copy does not link to a copy of itself
    emr = [c for c in copy.cells if is_emr_cell(c)]
    assert emr and all(not c.outputs for c in emr)  # kept for EMR readers, never run offline
    text = "".join(o["text"] for c in copy.cells if c.cell_type == "code" for o in c.outputs)
    assert str(ROOT) not in text and "<repository>/x" in text
    assert "injected-parameters" not in str(copy)
    assert published.problems(LESSON) == []


def test_the_check_bites_on_a_stale_copy_a_machine_path_and_a_skipped_cell(tmp_path, monkeypatch):
    monkeypatch.setattr(published, "FOLDER", tmp_path / "executed")
    assert published.problems(LESSON) == ["no executed copy: run `make published`"]
    published.build(fake_run(tmp_path), [LESSON])
    path = published.copy_path(LESSON)
    good = nbformat.read(path, as_version=4)
    code = [c for c in good.cells if c.cell_type == "code" and not is_emr_cell(c)]

    def broken(change):
        nb = nbformat.read(path, as_version=4)
        change([c for c in nb.cells if c.cell_type == "code" and not is_emr_cell(c)])
        nbformat.write(nb, path)
        found = published.problems(LESSON)
        nbformat.write(good, path)
        return " ".join(found)

    assert "lesson changed" in broken(lambda cells: setattr(cells[3], "source", cells[3].source + "\nprint(1)"))
    assert "machine path" in broken(lambda cells: cells[2].outputs.append(
        nbformat.v4.new_output("stream", name="stderr", text="wrote /tmp/spark-1234/x\n")))
    assert "not executed" in broken(lambda cells: setattr(cells[4], "execution_count", None))
    assert "error output" in broken(lambda cells: cells[5].outputs.append(
        nbformat.v4.new_output("error", ename="ValueError", evalue="boom", traceback=[])))
    assert code and published.problems(LESSON) == []


def test_build_refuses_a_run_of_other_code(tmp_path, monkeypatch):
    monkeypatch.setattr(published, "FOLDER", tmp_path / "executed")
    build = fake_run(tmp_path)
    run = build / "executed" / LESSON.parent.name / LESSON.name
    nb = nbformat.read(run, as_version=4)
    next(c for c in nb.cells if c.cell_type == "code").source += "\n# edited after the run"
    nbformat.write(nb, run)
    assert "code changed" in published.build(build, [LESSON])[0]
    assert not published.copy_path(LESSON).exists()
