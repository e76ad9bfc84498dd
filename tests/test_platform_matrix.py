"""The platform matrix in `make test`: every notebook in every platform kernel it is meant for
(tools/matrix.py says which), against this worker's localaws, judged as `make run` judges it.

A platform whose Python is missing here is skipped with the reason and the fix (pytest -ra
prints it), never passed. The kernels are built by `make kernels`, which `make test` runs first.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tools import figures, matrix, platforms
from tools.run_notebooks import discover, run_one

ROOT = Path(__file__).resolve().parent.parent
# EMR first, then the SageMaker kernels (tools/test_order.py hands the longest work out first anyway)
CASES = [(p, nb) for p in sorted(platforms.PLATFORMS, key=lambda p: not p.emr)
         for nb in matrix.notebooks_for(p, discover([]))]


def case_id(case) -> str:
    platform, notebook = case
    return f"{platform.name}:{notebook.relative_to(ROOT).as_posix()}"



@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_notebook_on_platform(case, emulator, tmp_path_factory):
    platform, notebook = case
    reason = platforms.status(platform)
    if reason:
        pytest.skip(f"{platform.name}: {reason}")
    out = tmp_path_factory.mktemp(platform.name)
    result = run_one(notebook, out, emulator, platform)
    matrix.remember(result)  # make run's report shows the last matrix
    assert not result.leftovers, f"left running: {result.leftovers}"
    assert not result.error, f"{result.error}\n(log: {out / 'platforms' / platform.name / 'logs'})"
    if result.expected:  # stopped at the SDK check with the install line, as it must on SDK v3
        return
    expected = figures.load().get(result.notebook)
    if expected:
        assert not figures.out_of_band(expected, result.metrics), figures.out_of_band(expected, result.metrics)


def test_every_platform_has_notebooks_and_every_aws_or_spark_notebook_a_platform():
    notebooks = discover([])
    for platform in platforms.PLATFORMS:
        assert matrix.notebooks_for(platform, notebooks), platform.name
    covered = {nb for p in platforms.PLATFORMS for nb in matrix.notebooks_for(p, notebooks)}
    for notebook in notebooks:
        if matrix.kind(notebook) != "local":
            assert notebook in covered, notebook
