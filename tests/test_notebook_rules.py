"""Every notebook follows the skeleton of DESIGN.md §3 and holds no emulator code."""
from __future__ import annotations

import re

import nbformat
import pytest

from tools.matrix import SDK_CHECK, SDK_INSTALL_LINE, is_emr_cell
from tools.notebooks import ROOT, all_notebooks, problems

NOTEBOOKS = all_notebooks()
FORBIDDEN = {
    "emulator code": re.compile(r"(import|from)\s+(localaws|moto)\b|localaws\.\w|127\.0\.0\.1|localhost"),
    "an offline branch": re.compile(r"if\s+(not\s+)?(OFFLINE|offline|LOCAL|local_mode)\b"),
    "an account id": re.compile(r"\b\d{12}\b"),
    "a hard-coded bucket": re.compile(r"s3://(?!\{)[a-z0-9][a-z0-9.-]+/"),
    "an AWS key": re.compile(r"AKIA[0-9A-Z]{16}"),
    "a hard-coded region": re.compile(r"['\"](us|eu|ap|sa|ca)-(east|west|north|south|central|northeast|southeast)-\d['\"]"),
}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_skeleton(notebook):
    assert problems(notebook) == []
    nb = nbformat.read(notebook, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert any("metrics" in c.lower() for c in code[-3:]), "a metrics cell near the end"
    headings = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert any("clean up" in h.lower() for h in headings), "a 'Clean up' section"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_emulator_code_or_hard_coded_aws_names(notebook):
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for what, pattern in FORBIDDEN.items():
            assert not pattern.search(cell.source), f"{what} in cell:\n{cell.source}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_code_cell_is_introduced_by_prose(notebook):
    nb = nbformat.read(notebook, as_version=4)
    for before, cell in zip(nb.cells, nb.cells[1:]):
        if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
            assert before.cell_type == "markdown" or before.cell_type == "code", "cell order"
    markdown = sum(c.cell_type == "markdown" for c in nb.cells)
    code = sum(c.cell_type == "code" for c in nb.cells)
    assert markdown >= code * 0.7, f"{markdown} prose cells for {code} code cells: explain more"




def code_cells(notebook):
    return [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_sagemaker_sdk_is_checked_first_by_distribution_version(notebook):
    """SDK v3 has no sagemaker.__version__ (measured on SageMaker Distribution 4): the check reads
    the distribution's metadata, before any `import sagemaker`, in the first code cell (after
    the EMR install cell on EMR)."""
    cells = [c for c in code_cells(notebook) if not is_emr_cell(c)]
    source = "\n".join(c.source for c in cells)
    assert "sagemaker.__version__" not in source
    if re.search(r"^\s*(import|from) sagemaker\b", source, re.M):
        assert SDK_CHECK in cells[0].source and SDK_INSTALL_LINE in cells[0].source


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_spark_notebooks_show_plots_on_emr_and_import_nothing_from_their_folder(notebook):
    cells = code_cells(notebook)
    if not any(re.search(r"^\s*(import|from) pyspark\b", c.source, re.M) for c in cells):
        return
    for cell, following in zip(cells, cells[1:] + [None]):
        if "plt.show()" in cell.source:
            assert following is not None and following.source.strip() == "%matplot plt" \
                and is_emr_cell(following), f"no %matplot cell after:\n{cell.source}"
    local = {p.stem for p in notebook.parent.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    for cell in cells:
        for module in re.findall(r"^\s*(?:from|import) (\w+)", cell.source, re.M):
            assert module not in local, f"imports {module} from the notebook's folder, which is not on an EMR cluster"


SYNTHETIC_SAMPLES = ("adform_clicks", "newsgroups", "tweets", "online_retail", "theme_park", "caltech_style")


def test_the_synthetic_samples_are_listed_as_such_in_data_readme():
    readme = (ROOT / "data" / "README.md").read_text()
    rows = {name: next(line for line in readme.splitlines() if f"samples/{name}/" in line)
            for name in SYNTHETIC_SAMPLES}
    assert all("**synthetic" in row for row in rows.values()), rows


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_a_notebook_on_a_synthetic_sample_says_so(notebook):
    """Issue 20: ten notebooks ran on generated data without saying it, and two read the
    generator's design as findings. A notebook that reads such a sample says what it is."""
    text = notebook.read_text()
    used = [name for name in SYNTHETIC_SAMPLES if f"samples/{name}" in text]
    if used:
        nb = nbformat.read(notebook, as_version=4)
        prose = " ".join(c.source for c in nb.cells if c.cell_type == "markdown").lower()
        assert "synthetic" in prose, f"reads {used} but never says the sample is synthetic"
