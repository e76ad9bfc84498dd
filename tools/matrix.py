"""The platform matrix: which notebooks each platform kernel runs, how, and how a run is judged.

- SageMaker-side notebooks (they call AWS through the SageMaker SDK or boto3, and do not use
  Spark) run in the SageMaker Studio and notebook-instance kernels, from the notebook's own
  folder, as they do in a clone of this repository there.
- Spark notebooks run in the EMR kernel as on a cluster: from a directory that is not the
  notebook's folder, with the repository's data paths given as absolute paths (standing in
  for the `s3://` URIs a reader sets), and with their cells tagged `emr` (the install cell,
  `%matplot`), which every other kernel skips.
- On SageMaker Distribution 4 as shipped (SDK v3), every notebook that uses the SageMaker SDK
  must stop in its SDK check with the exact install line: that counts as the expected
  result. Notebooks that use boto3 only must pass there as anywhere.
"""
from __future__ import annotations

import ast
import functools
import json
import re
from pathlib import Path

import nbformat

from course.sagemaker_setup import INSTALL_LINE
from tools.platforms import BUILD, PLATFORMS

ROOT = Path(__file__).resolve().parent.parent
EMR_TAG = "emr"
SDK_INSTALL_LINE = INSTALL_LINE  # the line the SDK check prints
# The SDK check: `course.sagemaker_setup.require_sdk_v2()` in the SageMaker-side notebooks, or
# inline (the Spark notebook that calls SageMaker from the cluster, where `course` is absent).
SDK_CHECKS = ("require_sdk_v2()", 'Version(version("sagemaker"))')
_IMPORTS = re.compile(r"^\s*(?:import|from)\s+(\w+(?:\.\w+)?)", re.M)


def imported_modules(code: str) -> set[str]:
    """The modules (and `package.module`s) the code imports at the start of a line."""
    found = set()
    for name in _IMPORTS.findall(code):
        found |= {name, name.split(".")[0]}
    return found


def has_sdk_check(code: str) -> bool:
    return any(check in code for check in SDK_CHECKS)


@functools.lru_cache(maxsize=None)  # every platform asks about every notebook
def notebook_code(notebook: Path) -> str:
    nb = nbformat.read(notebook, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def kind(notebook: Path) -> str:
    """'spark', 'sagemaker' (AWS API calls, no Spark) or 'local' (neither)."""
    modules = imported_modules(notebook_code(notebook))
    if "pyspark" in modules:
        return "spark"
    if modules & {"sagemaker", "boto3", "course.sagemaker_setup"}:
        return "sagemaker"
    return "local"


def notebooks_for(platform, notebooks: list[Path]) -> list[Path]:
    return [nb for nb in notebooks if kind(nb) == platform.notebooks]


def is_emr_cell(cell) -> bool:
    return EMR_TAG in cell.get("metadata", {}).get("tags", [])


def notebook_for(notebook: Path, platform, scratch: Path) -> Path:
    """The notebook as this kernel runs it: without its `emr` cells except on EMR."""
    if platform is not None and platform.emr:
        return notebook
    nb = nbformat.read(notebook, as_version=4)
    kept = [c for c in nb.cells if not is_emr_cell(c)]
    if len(kept) == len(nb.cells):
        return notebook
    nb.cells = kept
    scratch.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, scratch)
    return scratch


def parameters_for(notebook: Path, platform) -> dict[str, str]:
    """On EMR, the parameters cell's relative paths ('../data/…') made absolute: the cluster
    does not run in the notebook's folder, so a reader passes full (s3://) locations."""
    if platform is None or not platform.emr:
        return {}
    nb = nbformat.read(notebook, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    found = {}
    for node in ast.parse(cell.source).body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str) and node.value.value.startswith("../")):
            found[node.targets[0].id] = str((notebook.parent / node.value.value).resolve())
    return found


# A notebook that applies what an earlier notebook of its chapter saved. A chapter runs in
# order, so on the laptop the file is there; a platform kernel runs only its own notebooks
# (EMR runs the Spark notebook, not the Keras one), so the earlier notebook runs first in the
# project's kernel, writing into this run's folder, as a reader runs notebook 1 in Studio and
# copies the model to S3 for the cluster. notebook -> (earlier notebook, its output
# parameter, this notebook's input parameter, file name)
PREREQUISITES = {
    "chapter09_image_classification/2_spark_batch_inference.ipynb":
        ("chapter09_image_classification/1_keras_cnn.ipynb", "EXPORT_DIR", "MODEL", "caltech_style_cnn_savedmodel"),
}


def prerequisite_for(notebook: Path, platform):
    """(earlier notebook, output parameter, input parameter, file name) when this platform must
    run an earlier notebook first, else None."""
    if platform is None:
        return None
    found = PREREQUISITES.get(notebook.relative_to(ROOT).as_posix())
    return (ROOT / found[0], *found[1:]) if found else None


def kernel_env(platform, emulator=None) -> dict[str, str]:
    """What a platform's kernel adds to the emulator's environment: where its kernelspec is
    and, on EMR, the cluster's instance profile as the caller (the notebooks there run as
    EMR_EC2_DefaultRole, not as the SageMaker execution role)."""
    if platform is None:
        return {}
    env = {"JUPYTER_PATH": str(BUILD)}
    if platform.emr and emulator is not None and getattr(emulator, "iam_mode", "off") != "off":
        env.update(emulator.session_env("EMR_EC2_DefaultRole"))
    return env


def _first_error_cell(executed: Path) -> str | None:
    if not executed.exists():
        return None
    nb = json.loads(executed.read_text())
    for cell in nb["cells"]:
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return "".join(cell["source"])
    return None


def judge(result, platform, log: Path, executed: Path) -> None:
    """Turn an SDK-v3 platform's run into pass/fail: it must stop at the SDK check, with the fix."""
    if not platform.expect_sdk_stop or not has_sdk_check(notebook_code(ROOT / result.notebook)):
        return  # boto3-only notebooks need no SDK v2: they must simply pass
    text = log.read_text(errors="replace")
    failing = _first_error_cell(executed) or ""
    if result.error and has_sdk_check(failing) and SDK_INSTALL_LINE in text:
        result.error, result.expected = None, "stops at the SDK check with the install line"
    elif not result.error:
        result.error = "ran to the end on SDK v3: the SDK check should have stopped it"
    else:
        result.error = f"did not stop at the SDK check with the install line: {result.error}"


LAST_RUN = ROOT / "build" / "matrix"


def remember(result) -> None:
    """Keep a matrix result (from `make test`) for the next report."""
    from dataclasses import asdict, is_dataclass

    LAST_RUN.mkdir(parents=True, exist_ok=True)
    name = f"{result.platform}__{result.notebook.replace('/', '__')}.json"
    (LAST_RUN / name).write_text(json.dumps(asdict(result) if is_dataclass(result) else vars(result)))


def remembered() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(LAST_RUN.glob("*.json"))] if LAST_RUN.exists() else []


def platform_names() -> list[str]:
    return ["laptop"] + [p.name for p in PLATFORMS]


def cell_text(result) -> str:
    if result.skipped:
        return "not run"
    if result.error or result.leftovers:
        return "FAILED"
    return f"{'stops' if result.expected else 'ok'} {result.seconds:.0f} s"


def rows(results) -> tuple[list[str], list[list[str]]]:
    """Header (notebook, then each platform that has a result) and one row per notebook."""
    columns = [p for p in platform_names() if any(r.platform == p for r in results)]
    by_key = {(r.notebook, r.platform): r for r in results}
    body = []
    for notebook in sorted({r.notebook for r in results}):
        body.append([notebook] + [cell_text(by_key[(notebook, p)]) if (notebook, p) in by_key else ""
                                  for p in columns])
    return ["notebook"] + columns, body


def markdown_table(results) -> str:
    header, body = rows(results)
    labels = {p.name: p.label or p.name for p in PLATFORMS}
    header = [labels.get(h, h) for h in header]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in body])


def aligned(table: list) -> str:
    """Rows of strings as aligned columns, the first row underlined (terminal tables)."""
    widths = [max(len(row[c]) for row in table) for c in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def text_table(results) -> str:
    header, body = rows(results)
    return aligned([header] + body)
