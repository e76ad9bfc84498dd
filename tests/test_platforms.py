"""tools/platforms.py and tools/matrix.py on their own: finding interpreters, saying plainly why
a platform cannot run, which notebooks each platform gets and how an EMR run sees them."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from types import SimpleNamespace

import nbformat

from tools import matrix, platforms
from tools.run_notebooks import discover

ROOT = Path(__file__).resolve().parent.parent


def test_a_missing_python_is_reported_with_the_fix_not_passed():
    ghost = dataclasses.replace(platforms.BY_NAME["emr-7"], name="ghost", python="2.1")
    reason = platforms.status(ghost)
    assert reason and "Python 2.1 is not on this machine" in reason and "pyenv install 2.1" in reason


def test_kernels_are_not_started_on_a_disk_that_cannot_hold_them(monkeypatch, tmp_path):
    """A clean-clone run once failed after twenty minutes with "No space left on device"
    inside a kernel's pip install: the build now refuses first, saying how much is needed."""
    missing = [dataclasses.replace(p, name=f"unbuilt-{p.name}", disk_gb=2.8) for p in platforms.PLATFORMS[:2]]
    monkeypatch.setattr(platforms, "status", lambda p: "not built")
    monkeypatch.setattr(platforms, "find_python", lambda version: Path("/usr/bin/python3"))
    monkeypatch.setattr(platforms.shutil, "disk_usage", lambda path: SimpleNamespace(free=2e9))
    try:
        platforms.check_free_space(missing, tmp_path / "not" / "yet")
    except platforms.NotEnoughDisk as err:
        assert "needs about 7 GB" in str(err) and "2.0 GB are free" in str(err) and "build NAME" in str(err)
    else:
        raise AssertionError("a disk with 2 GB free was accepted for two kernels")
    monkeypatch.setattr(platforms.shutil, "disk_usage", lambda path: SimpleNamespace(free=50e9))
    platforms.check_free_space(missing, tmp_path)  # enough: no error


def test_sagemaker_and_spark_notebooks_go_to_their_platforms():
    notebooks = discover([])
    emr = [nb.relative_to(ROOT).as_posix() for nb in matrix.notebooks_for(platforms.BY_NAME["emr-7"], notebooks)]
    studio = [nb.relative_to(ROOT).as_posix()
              for nb in matrix.notebooks_for(platforms.BY_NAME["sagemaker-distribution-3"], notebooks)]
    assert "chapter03_regression/2_spark_linear_regression.ipynb" in emr
    assert "chapter06_recommenders/3_sagemaker_factorization_machines.ipynb" in emr  # Spark + SageMaker: EMR
    assert "chapter04_trees/3_sagemaker_xgboost.ipynb" in studio
    assert "chapter03_regression/1_sklearn_linear_regression.ipynb" not in emr + studio
    assert not set(emr) & set(studio)


def test_on_emr_the_repository_paths_become_absolute_and_emr_cells_stay(tmp_path):
    notebook = ROOT / "chapter03_regression" / "2_spark_linear_regression.ipynb"
    emr = platforms.BY_NAME["emr-7"]
    parameters = matrix.parameters_for(notebook, emr)
    assert parameters == {"HOUSING_CSV": str(ROOT / "data" / "samples" / "housing" / "train.csv")}
    assert matrix.notebook_for(notebook, emr, tmp_path / "x.ipynb") == notebook
    laptop_copy = matrix.notebook_for(notebook, None, tmp_path / "x.ipynb")
    assert laptop_copy != notebook
    assert not [c for c in nbformat.read(laptop_copy, as_version=4).cells if matrix.is_emr_cell(c)]
    assert matrix.parameters_for(notebook, None) == {}


def test_on_sdk_v3_a_sagemaker_notebook_passes_only_by_stopping_at_its_check(tmp_path):
    sdk_v3 = platforms.BY_NAME["sagemaker-distribution-4"]
    notebook = "chapter04_trees/3_sagemaker_xgboost.ipynb"
    source = nbformat.read(ROOT / notebook, as_version=4)
    check = next(c for c in source.cells if c.cell_type == "code")
    check.outputs = [nbformat.v4.new_output("error", ename="RuntimeError", evalue="x", traceback=[])]
    executed, log = tmp_path / "run.ipynb", tmp_path / "run.log"
    nbformat.write(source, executed)
    log.write_text(f"RuntimeError: ... Run  {matrix.SDK_INSTALL_LINE}  in a cell")

    stopped = SimpleNamespace(notebook=notebook, error="RuntimeError", expected=None)
    matrix.judge(stopped, sdk_v3, log, executed)
    assert stopped.error is None and stopped.expected

    ran_through = SimpleNamespace(notebook=notebook, error=None, expected=None)
    matrix.judge(ran_through, sdk_v3, log, executed)
    assert "should have stopped" in ran_through.error

    boto3_only = SimpleNamespace(notebook="chapter12_lex/1_lex_food_order_bot.ipynb", error=None, expected=None)
    matrix.judge(boto3_only, sdk_v3, log, executed)
    assert boto3_only.error is None and boto3_only.expected is None


def test_a_notebook_that_needs_an_earlier_one_gets_it_first_on_a_platform():
    """On EMR the matrix runs only the Spark notebook: the notebook whose output it applies runs
    first (tools/matrix.PREREQUISITES), and the parameters named there exist in both."""
    emr = platforms.BY_NAME["emr-7"]
    for later, (earlier, output, given_as, _) in matrix.PREREQUISITES.items():
        assert matrix.prerequisite_for(ROOT / later, None) is None  # a chapter runs in order on the laptop
        assert matrix.prerequisite_for(ROOT / later, emr)[0] == ROOT / earlier
        for notebook, parameter in ((earlier, output), (later, given_as)):
            cell = next(c for c in nbformat.read(ROOT / notebook, as_version=4).cells
                        if "parameters" in c.metadata.get("tags", []))
            assert re.search(rf"^{parameter} = ", cell.source, re.M), f"{notebook} has no parameter {parameter}"


def test_every_kernel_writes_the_bytecode_it_was_built_without(tmp_path, monkeypatch):
    import json

    monkeypatch.setattr(platforms, "BUILD", tmp_path)
    for platform in platforms.PLATFORMS:
        platforms.write_kernelspec(platform)
        spec = json.loads((tmp_path / "kernels" / platform.kernel / "kernel.json").read_text())
        assert spec["env"] == {"PYTHONDONTWRITEBYTECODE": ""}, platform.name


def test_a_built_kernel_holds_the_bytecode_of_what_its_notebooks_import():
    """Written once after the install (platforms.write_bytecode), not by two kernels at once."""
    for platform in platforms.PLATFORMS:
        if platforms.status(platform):
            continue  # not built here: test_platform_matrix reports why
        package = "pyspark/sql" if platform.emr else "sagemaker"
        site = next((platform.venv / "lib").glob("python3.*")) / "site-packages"
        assert list((site / package / "__pycache__").glob("__init__.*.pyc")), f"{platform.name}: {package}"
