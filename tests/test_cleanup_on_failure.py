"""Nothing billable is left behind when a cell fails midway.

Every notebook that creates an endpoint, a classifier, a bot or a cluster either registers
its deletion with `atexit` as soon as the resource exists (its Clean up cell runs the same
deletion and unregisters it), or, where the kernel outlives a failure (chapter 6's EMR
notebook: Livy keeps the session), creates, uses and deletes the endpoint in one cell whose
`finally` deletes it. Here a failure is injected right after the last `atexit`
registration (a new cell), or at the top of the `try` block, so the notebook stops long
before Clean up; papermill then shuts the kernel down as Jupyter does (gracefully, which
runs the `atexit` hooks) and the emulator must hold nothing: no endpoint, endpoint
configuration, model, classifier, bot or cluster.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import matrix
from tools.run_notebooks import leftovers
from tools.notebooks import ROOT, all_notebooks

INJECTED = 'raise RuntimeError("injected failure: the cells below this one do not run")'


def registers_cleanup(cell) -> bool:
    return cell.cell_type == "code" and "atexit.register(" in cell.source


def deletes_finally(cell) -> bool:
    return cell.cell_type == "code" and "\ntry:\n" in cell.source and "\nfinally:\n" in cell.source \
        and "delete_endpoint()" in cell.source


BILLABLE = [nb for nb in all_notebooks()
            if any(registers_cleanup(c) or deletes_finally(c) for c in nbformat.read(nb, as_version=4).cells)]



# Lighter training where a notebook's parameters allow it: the failure comes after training,
# and how well the model trains does not matter to what is left running.
LIGHTER = {
    "chapter06_recommenders/3_sagemaker_factorization_machines.ipynb": {"EPOCHS": "5"},
    "chapter08_tensorflow/2_sagemaker_tensorflow_script_mode.ipynb": {"EPOCHS": "2"},
    "chapter09_image_classification/3_sagemaker_image_classification.ipynb": {"EPOCHS": "1"},
}


def with_failure_injected(notebook: Path, target: Path) -> Path:
    nb = nbformat.read(notebook, as_version=4)
    nb.cells = [c for c in nb.cells if not matrix.is_emr_cell(c)]
    guarded = [c for c in nb.cells if deletes_finally(c)]
    if guarded:
        guarded[0].source = guarded[0].source.replace("\ntry:\n", f"\ntry:\n    {INJECTED}\n", 1)
    else:
        last = max(i for i, c in enumerate(nb.cells) if registers_cleanup(c))
        nb.cells.insert(last + 1, nbformat.v4.new_code_cell(INJECTED))
    nbformat.write(nb, target)
    return target


def test_every_notebook_that_creates_billable_resources_registers_their_deletion():
    names = {nb.relative_to(ROOT).as_posix() for nb in BILLABLE}
    for creator in ("deploy(", "create_endpoint(", "create_document_classifier(", "create_bot(", "run_job_flow("):
        for notebook in all_notebooks():
            code = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")
            if creator in code and "# predictor = " not in code:  # chapter 16/3 shows deploy() in prose only
                assert notebook.relative_to(ROOT).as_posix() in names, f"{notebook.name} calls {creator}"


@pytest.mark.parametrize("notebook", BILLABLE, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_a_cell_failing_after_creation_leaves_nothing_running(notebook, emulator, tmp_path):
    source = with_failure_injected(notebook, tmp_path / notebook.name)
    done = subprocess.run(
        [sys.executable, "-m", "papermill", str(source), str(tmp_path / "executed.ipynb"), "--cwd",
         str(notebook.parent), "-k", "python3", "-p", "METRICS_DIR", str(tmp_path / "metrics"), "--no-progress-bar",
         *[part for name, value in LIGHTER.get(notebook.relative_to(ROOT).as_posix(), {}).items()
           for part in ("-p", name, value)]],
        capture_output=True, text=True, env={**os.environ, **emulator.env}, timeout=900)
    executed = (tmp_path / "executed.ipynb").read_text() if (tmp_path / "executed.ipynb").exists() else ""
    assert done.returncode != 0 and "injected failure" in executed, f"it failed elsewhere:\n{done.stderr[-3000:]}"
    left = leftovers(emulator.url)  # and reset, so the next test starts clean
    assert left == {}, f"left running after the failure: {left}"


def test_the_lighter_parameters_name_real_notebooks_and_parameters():
    for name, parameters in LIGHTER.items():
        nb = nbformat.read(ROOT / name, as_version=4)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        for parameter in parameters:
            assert f"\n{parameter} = " in f"\n{cell.source}", f"{name} has no parameter {parameter}"
