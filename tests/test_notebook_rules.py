"""Every notebook follows the skeleton CONTRIBUTING.md describes and holds no emulator code.

Each rule is a function that lists what it finds, so the `*_bites` tests can show it
finding the fault in a broken copy: a rule that cannot fail checks nothing (issue 20).
"""
from __future__ import annotations

import ast
import re
import types

import nbformat
import pytest
from packaging.version import Version

from tools.matrix import SDK_INSTALL_LINE, has_sdk_check, imported_modules, is_emr_cell
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


def unintroduced_code_cells(nb) -> list[str]:
    """Code cells with no prose right before them. The parameters cell (introduced by its
    heading) and `emr` cells (the `%matplot` after a plot, explained once per notebook) are
    exempt."""
    return [cell.source.splitlines()[0] for before, cell in zip(nb.cells, nb.cells[1:])
            if cell.cell_type == "code" and before.cell_type != "markdown"
            and "parameters" not in cell.metadata.get("tags", []) and not is_emr_cell(cell)]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_code_cell_is_introduced_by_prose(notebook):
    nb = nbformat.read(notebook, as_version=4)
    assert unintroduced_code_cells(nb) == [], "add a sentence on why before each of these cells"
    markdown = sum(c.cell_type == "markdown" for c in nb.cells)
    code = sum(c.cell_type == "code" for c in nb.cells)
    assert markdown >= code * 0.7, f"{markdown} prose cells for {code} code cells: explain more"


def test_the_prose_rule_bites_on_a_plot_with_no_sentence_before_it():
    """The old form of this rule (`markdown or code`) passed 03/3's unexplained plot."""
    nb = nbformat.read(ROOT / "chapter03_regression" / "3_sagemaker_linear_learner.ipynb", as_version=4)
    plot = next(i for i, c in enumerate(nb.cells) if 'kind="scatter"' in c.source)
    assert nb.cells[plot - 1].cell_type == "markdown"
    del nb.cells[plot - 1]
    assert unintroduced_code_cells(nb) == [nb.cells[plot - 1].source.splitlines()[0]]




def code_cells(notebook):
    return [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_sagemaker_sdk_is_checked_first_by_distribution_version(notebook):
    """SDK v3 has no sagemaker.__version__ (measured on SageMaker Distribution 4): the check reads
    the distribution's metadata, before any `import sagemaker`, in the first code cell (after
    the EMR install cell on EMR): `course.sagemaker_setup.require_sdk_v2()`, or inline in the
    Spark notebook, where `course` is not on the cluster."""
    cells = [c for c in code_cells(notebook) if not is_emr_cell(c)]
    source = "\n".join(c.source for c in cells)
    assert "sagemaker.__version__" not in source
    if imported_modules(source) & {"sagemaker", "course.sagemaker_setup"}:
        first = cells[0].source
        assert has_sdk_check(first), first
        assert "require_sdk_v2()" in first or SDK_INSTALL_LINE in first


@pytest.mark.parametrize("sdk, fails", [("2.244.9", True), ("2.245", False), ("2.257.7", False), ("3.0.0", True),
                                        ("3.12.0", True), (None, True)])
def test_require_sdk_v2_names_the_install_line(monkeypatch, sdk, fails):
    from importlib.metadata import PackageNotFoundError

    from course import sagemaker_setup

    def version(name):
        if sdk is None:
            raise PackageNotFoundError(name)
        return sdk

    monkeypatch.setattr(sagemaker_setup, "version", version)
    if fails:
        with pytest.raises(RuntimeError, match=re.escape(SDK_INSTALL_LINE)):
            sagemaker_setup.require_sdk_v2()
    else:
        assert sagemaker_setup.require_sdk_v2() == sdk


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
    local.add("course")  # the repository's package is not on the cluster either
    for cell in cells:
        for module in re.findall(r"^\s*(?:from|import) (\w+)", cell.source, re.M):
            assert module not in local, f"imports {module} from the notebook's folder, which is not on an EMR cluster"


def course_import_problems(notebook) -> list[str]:
    """A notebook that imports the repository's `course` package puts the repository root on
    `sys.path` first (Jupyter starts the kernel in the notebook's folder), and the package
    exists for every module it names."""
    found, on_path = [], False
    for cell in code_cells(notebook):
        for line in cell.source.splitlines():
            if line.startswith('sys.path.insert(0, "..")'):
                on_path = True
            module = re.match(r"from (course(?:\.\w+)?) import|import (course(?:\.\w+)?)", line)
            if module:
                name = module.group(1) or module.group(2)
                if not on_path:
                    found.append(f"{name} imported before the repository root is on sys.path")
                if not (ROOT / (name.replace(".", "/") + ".py")).exists() and not (ROOT / name / "__init__.py").exists():
                    found.append(f"no module {name}")
    return found


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_course_package_is_reached_from_the_repository_root(notebook):
    assert course_import_problems(notebook) == []


def test_the_course_import_rule_bites(tmp_path):
    cell = nbformat.v4.new_code_cell
    for cells, expected in [([cell("from course.tweets import read_lines")], "before the repository root"),
                            ([cell('import sys\n\nsys.path.insert(0, "..")\nfrom course.nothing import x')], "no module")]:
        path = tmp_path / "nb.ipynb"
        nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
        assert expected in " ".join(course_import_problems(path))


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


def version_checks(source: str):
    """Each version check in a cell as (condition, accepted-when-true): `assert cond, ...`
    accepts when cond holds; `if cond: raise ...` accepts when it does not."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assert):
            condition, accepts_when = node.test, True
        elif isinstance(node, ast.If) and any(isinstance(n, ast.Raise) for n in node.body):
            condition, accepts_when = node.test, False
        else:
            continue
        text = ast.unparse(condition)
        if "__version__" in text or "version_info" in text or "version(" in text:
            yield text, accepts_when


def _probe_versions(condition: str) -> list[str]:
    """Versions around every threshold the condition names, and far from them."""
    thresholds = re.findall(r"\((\d+(?:, \d+)+)\)", condition) + re.findall(r"['\"](\d+(?:\.\d+)*)\.?['\"]", condition)
    probes = {"0.1", "1.0", "2.0", "3.0", "9.0", "10.0", "100.0"}
    for threshold in thresholds:
        parts = [int(p) for p in re.split(r"[.,]\s*", threshold)]
        for delta in (-1, 0, 1):
            bumped = parts[:-1] + [max(parts[-1] + delta, 0)]
            probes.add(".".join(map(str, bumped)))
        probes.add(f"{parts[0] + 1}.0")
        probes.add(f"{parts[0] * 10 + 10}.0")
    return sorted(probes, key=Version)


def _accepts(condition: str, accepts_when: bool, probe: str) -> bool:
    class Module(types.SimpleNamespace):
        def __getattr__(self, name):        # tf.keras.__version__ and the like
            return Module(__version__=probe)
    names = {name: Module(__version__=probe) for name in re.findall(r"\b(\w+)\.", condition)}
    names["sys"] = types.SimpleNamespace(version_info=tuple(int(p) for p in probe.split(".")) + (0,))
    names.update(Version=Version, version=lambda distribution: probe, tuple=tuple, map=map, int=int)
    return bool(eval(condition, names)) == accepts_when   # noqa: S307 - conditions from our notebooks


def bad_version_checks(source: str) -> list[str]:
    """Version checks that accept every version, refuse every version, or accept a set
    with holes (a string comparison: "10.0" < "3")."""
    bad = []
    for condition, accepts_when in version_checks(source):
        probes = _probe_versions(condition)
        accepted = [_accepts(condition, accepts_when, probe) for probe in probes]
        edges = sum(a != b for a, b in zip(accepted, accepted[1:]))
        if all(accepted) or not any(accepted) or edges > 2 or (edges == 2 and accepted[0]):
            bad.append(f"{condition}: accepts {[p for p, a in zip(probes, accepted) if a]}")
    return bad


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_version_check_accepts_one_range_of_versions(notebook):
    """Issue 20: `keras.__version__ >= "3"` compared strings and `int(boto3 major) >= 1`
    could not fail. Each check is evaluated on versions around its own thresholds."""
    found = [bad for cell in code_cells(notebook) if not cell.source.lstrip().startswith("%")
             for bad in bad_version_checks(cell.source)]
    assert found == []


@pytest.mark.parametrize("check", [
    'assert keras.__version__ >= "3", "Keras 3"',               # 08/1 before: a string comparison
    'assert int(boto3.__version__.split(".")[0]) >= 0',         # true for every version
    'if Version(version("sagemaker")) < Version("0"):\n    raise RuntimeError()',
])
def test_the_version_check_rule_bites(check):
    assert bad_version_checks(check)


def test_the_version_check_rule_passes_the_notebooks_real_checks():
    assert bad_version_checks('assert int(keras.__version__.split(".")[0]) >= 3') == []
    import inspect

    from course import sagemaker_setup

    sdk_check = inspect.getsource(sagemaker_setup.require_sdk_v2)
    assert len(list(version_checks(sdk_check))) == 1 and bad_version_checks(sdk_check) == []
    inline = code_cells(ROOT / "chapter06_recommenders" / "3_sagemaker_factorization_machines.ipynb")
    inline = next(c.source for c in inline if has_sdk_check(c.source))
    assert len(list(version_checks(inline))) == 1 and bad_version_checks(inline) == []


BOOK_EXERCISES = (2, 4, 5, 6, 8, 9, 10, 11, 12, 14, 16)  # the chapters whose book ends with exercises


def exercise_problems(nb) -> list[str]:
    """An Exercises section: answers folded in <details> (balanced), and code answers in
    cells tagged `solution` whose input JupyterLab shows collapsed."""
    found = []
    heading = next((i for i, c in enumerate(nb.cells)
                    if c.cell_type == "markdown" and c.source.startswith("## Exercises")), None)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and cell.source.count("<details>") != cell.source.count("</details>"):
            found.append(f"cell {i}: unbalanced <details>")
        if "solution" in cell.metadata.get("tags", []):
            if not cell.metadata.get("jupyter", {}).get("source_hidden"):
                found.append(f"cell {i}: a solution whose input is not collapsed")
            if heading is None or i < heading:
                found.append(f"cell {i}: a solution outside the Exercises section")
    return found


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_exercise_answers_are_folded(notebook):
    assert exercise_problems(nbformat.read(notebook, as_version=4)) == []


def test_every_chapter_with_exercises_in_the_book_has_them():
    """Issue 20: only chapter 9's endpoint exercise was done."""
    with_section = {int(p.parent.name[len("chapter"):][:2]) for p in NOTEBOOKS
                    if any(c.cell_type == "markdown" and c.source.startswith("## Exercises")
                           for c in nbformat.read(p, as_version=4).cells)}
    assert set(BOOK_EXERCISES) <= with_section, sorted(set(BOOK_EXERCISES) - with_section)


def test_the_exercise_rule_bites():
    nb = nbformat.read(ROOT / "chapter04_trees" / "1_sklearn_decision_tree_random_forest.ipynb", as_version=4)
    solution = next(c for c in nb.cells if "solution" in c.metadata.get("tags", []))
    del solution.metadata["jupyter"]
    answer = next(c for c in nb.cells if "</details>" in c.source)
    answer.source = answer.source.replace("</details>", "", 1)
    found = " ".join(exercise_problems(nb))
    assert "not collapsed" in found and "unbalanced" in found


def helpers_defined(notebooks, root=ROOT) -> dict[str, set[str]]:
    """Each function or class a notebook defines at the top of a cell, by name and by body
    (`body:<hash>`, so a copy under another name is caught too): the notebooks defining it."""
    import hashlib

    defined: dict[str, set[str]] = {}
    for path in notebooks:
        for cell in code_cells(path):
            source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    body = ast.dump(ast.Module(body=node.body, type_ignores=[]))
                    for key in (node.name, "body:" + hashlib.sha1(body.encode()).hexdigest()[:12]):
                        defined.setdefault(key, set()).add(path.relative_to(root).as_posix())
    return defined


def test_no_helper_is_defined_in_two_notebooks():
    """Issue 20, item 5: what two notebooks need lives once, in the `course` package (or, for
    the Spark notebooks, which cannot reach it on a cluster, is written in place)."""
    defined = helpers_defined(NOTEBOOKS)
    assert {name: sorted(where) for name, where in defined.items() if len(where) > 1} == {}


def test_the_copy_check_bites(tmp_path):
    def copies():
        defined = helpers_defined(sorted(tmp_path.glob("*.ipynb")), root=tmp_path)
        return {name: where for name, where in defined.items() if len(where) > 1}

    for name, helper in [("a", "def shout(text):\n    return text.upper() + '!'\n"),
                         ("b", "def yell(words):\n    return words.upper() + '!'\n")]:
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(helper)]), tmp_path / f"{name}.ipynb")
    assert copies() == {}, "other argument names make another body"
    (tmp_path / "c.ipynb").write_text((tmp_path / "a.ipynb").read_text().replace("shout", "holler"))
    assert [name[:5] for name in copies()] == ["body:"]  # renamed, same body
    (tmp_path / "d.ipynb").write_text((tmp_path / "b.ipynb").read_text())
    assert "yell" in copies()
