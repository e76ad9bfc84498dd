"""Edit notebooks as plain Python (jupytext percent format) and write them back clean.

    python -m tools.notebooks to-py chapter03_regression/1_sklearn_linear_regression.ipynb -o /tmp/nb.py
    python -m tools.notebooks from-py /tmp/nb.py -o chapter03_regression/1_sklearn_linear_regression.ipynb
    python -m tools.notebooks check            # every notebook: no outputs, a 'parameters' cell

Notebooks are committed without outputs and without editor metadata; `from-py` takes
care of both. Cells tagged in the script (`# %% tags=["parameters"]`) keep their tags.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def all_notebooks() -> list[Path]:
    return sorted(p for p in ROOT.glob("chapter*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    for cell in nb.cells:
        # tags, and JupyterLab's collapsed input (an exercise's folded answer)
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in ("tags", "jupyter")}
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.pop("id", None)
    nb.nbformat, nb.nbformat_minor = 4, 4
    return nb


def problems(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    found = []
    if any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
        found.append("has outputs")
    if not any("parameters" in c.metadata.get("tags", []) for c in nb.cells):
        found.append("has no cell tagged 'parameters'")
    if not nb.cells or nb.cells[0].cell_type != "markdown" or not nb.cells[0].source.startswith("# "):
        found.append("does not open with a '# title' markdown cell")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    to_py = sub.add_parser("to-py")
    to_py.add_argument("notebook", type=Path)
    to_py.add_argument("-o", "--output", type=Path, required=True)
    from_py = sub.add_parser("from-py")
    from_py.add_argument("script", type=Path)
    from_py.add_argument("-o", "--output", type=Path, required=True)
    sub.add_parser("check")
    args = parser.parse_args()

    if args.command == "to-py":
        jupytext.write(jupytext.read(args.notebook), args.output, fmt="py:percent")
    elif args.command == "from-py":
        notebook = clean(jupytext.read(args.script, fmt="py:percent"))
        nbformat.validate(notebook)
        nbformat.write(notebook, args.output)
    else:
        bad = {p: problems(p) for p in all_notebooks()}
        return report(bad, f"{len(bad)} notebooks checked")
    return 0


def report(found: dict[Path, list[str]], summary: str) -> int:
    """Print each notebook's problems and a summary line; the exit code: 1 if any."""
    for path, problems_found in found.items():
        for problem in problems_found:
            print(f"{path.relative_to(ROOT)}: {problem}")
    print(summary)
    return 1 if any(found.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
