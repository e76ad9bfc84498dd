"""What a reader installs on each platform resolves for that platform's Python.

Where the platform's kernel is built (`make kernels` installed every file on the real
interpreter), the kernel must hold each pin at its version with `pip check` clean; where the
interpreter is missing, pip's resolver checks the files for that Python version with wheels
only (`--python-version`). The EMR notebooks' `sc.install_pypi_package` pins are resolved
against the cluster's libraries the same way where the emr-7 kernel is not built (where it
is, the platform matrix installs them on it). PySpark is published as a source archive
only, so the resolver leaves it to the kernel build."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import matrix, platforms
from tools.run_notebooks import discover

SDIST_ONLY = ("pyspark",)
# What a reader's install leaves inconsistent and the notebooks do not use: on SageMaker
# Distribution 4, `pip install 'sagemaker>=2.245,<3'` takes sagemaker-core back to 1.x, which
# the image's SDK-v3 packages (sagemaker-train, -serve, -mlops) no longer accept (`pip check`).
KNOWN_CONFLICTS = {"sagemaker-distribution-4-sdk-v2": ("sagemaker-mlops ", "sagemaker-serve ", "sagemaker-train ")}


def requirement_lines(path: Path) -> list[str]:
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line and not line.lower().startswith(SDIST_ONLY)]


def emr_install_pins(notebook: Path) -> list[str]:
    """The packages of a notebook's `for package in [...]: sc.install_pypi_package(package)` cell."""
    pins = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "code" and matrix.is_emr_cell(cell) and "install_pypi_package" in cell.source:
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.List):
                    pins += [element.value for element in node.elts]
                elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                    pins.append(node.args[0].value)
    return pins


def canonical(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def expected_pins(steps: list[Path]) -> dict[str, str]:
    """Every `name==version` of the steps, except where a later step names the package again
    (the reader's install may move it, e.g. sagemaker 3 -> 2 on SageMaker Distribution 4)."""
    pins: dict[str, str] = {}
    for path in steps:
        for line in requirement_lines(path) + [l for l in path.read_text().splitlines() if l.startswith(SDIST_ONLY)]:
            name = canonical(line.split("==")[0].split(">")[0].split("<")[0].split("[")[0])
            pins.pop(name, None)
            if "==" in line:
                pins[name] = line.split("==")[1].split()[0]
    return pins


def resolve(requirements: list[str], python_version: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """pip's resolver for that Python: on the interpreter itself where this machine has it
    (source archives allowed, as pip on the platform allows them), else wheels only."""
    try:
        where = ["--python", str(platforms.find_python(python_version)), "install"]
    except platforms.InterpreterMissing:
        where = ["install", "--only-binary=:all:", "--python-version", python_version,
                 "--target", str(tmp_path / "target")]
    return subprocess.run([sys.executable, "-m", "pip", *where, "--dry-run", "--ignore-installed",
                           "--quiet", "--disable-pip-version-check", *requirements],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("platform", platforms.PLATFORMS, ids=lambda p: p.name)
def test_platform_requirements_resolve_for_its_python(platform, tmp_path):
    if platforms.status(platform) is None:
        python = str(platform.venv / "bin" / "python")
        check = subprocess.run([python, "-m", "pip", "check"], capture_output=True, text=True)
        broken = [line for line in check.stdout.splitlines() if line.strip() and line != "No broken requirements found."
                  and not line.startswith(KNOWN_CONFLICTS.get(platform.name, ()))]
        assert not broken, check.stdout
        frozen = subprocess.run([python, "-m", "pip", "freeze"], capture_output=True, text=True).stdout
        installed = {canonical(line.split("==")[0]): line.split("==")[1] for line in frozen.splitlines() if "==" in line}
        for name, version in expected_pins(platform.requirement_files()).items():
            assert installed.get(name) == version, f"{platform.name}: {name}=={version}, found {installed.get(name)}"
        return
    for path in platform.requirement_files():  # one step at a time, as they are installed
        wanted = requirement_lines(path)
        if wanted:
            done = resolve(wanted, platform.python, tmp_path)
            assert done.returncode == 0, f"{path}:\n{done.stderr[-3000:]}"


SPARK_NOTEBOOKS = [nb for nb in discover([]) if emr_install_pins(nb)]


@pytest.mark.parametrize("notebook", SPARK_NOTEBOOKS, ids=lambda nb: f"{nb.parent.name}/{nb.name}")
def test_emr_install_cell_resolves_on_the_cluster_python(notebook, tmp_path):
    emr = platforms.BY_NAME["emr-7"]
    pins = emr_install_pins(notebook)
    assert all("==" in pin for pin in pins), f"pin every notebook-scoped library: {pins}"
    if platforms.status(emr) is None:
        return  # the kernel is built: the platform matrix runs this cell, pip installing on the cluster itself
    cluster = [line for path in emr.requirement_files() for line in requirement_lines(path)]
    done = resolve(cluster + pins, emr.python, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]


def test_every_spark_notebook_that_imports_beyond_the_cluster_installs_it():
    cluster = {"pyspark", "numpy"} | set(sys.stdlib_module_names)
    installs_as = {"sklearn": "scikit-learn", "PIL": "pillow", "keras": "tensorflow-cpu", "tensorflow": "tensorflow-cpu",
                   "boto3": "sagemaker", "botocore": "sagemaker", "packaging": "sagemaker"}
    for notebook in discover([]):
        if matrix.kind(notebook) != "spark":
            continue
        pins = {pin.split("==")[0] for pin in emr_install_pins(notebook)}
        code = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells
                         if c.cell_type == "code" and not c.source.startswith("%"))
        imported = set()
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
        missing = {m for m in imported - cluster if installs_as.get(m, m) not in pins}
        assert not missing, f"{notebook.name} imports {sorted(missing)} but its emr cell does not install them"
