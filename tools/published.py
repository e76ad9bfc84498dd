"""Executed copies of the notebooks, committed under executed/ so that a reader browsing the
repository on GitHub sees every number, table and plot without running anything.

    python -m tools.published build [BUILD_DIR]   # after `make run`: copy its outputs in
    python -m tools.published check               # what the tests assert

The lessons themselves stay without outputs (tools/notebooks.py refuses outputs in them):
a learner who runs a notebook sees only what their own run printed, and an edit to a lesson
never drags a diff of images behind it. A copy is the lesson cell for cell (the `emr` cells
included, without outputs, since the offline run skips them) with the outputs of the last
offline run, one note under the title saying so, no machine paths and images kept small.
The copy's text is always the lesson's: a prose edit needs only `python -m tools.published
build` again, while changed code needs a new run. `check` fails when a lesson changed after
its copy was made, so a copy can never show outputs of code that is no longer there.
"""
from __future__ import annotations

import argparse
import base64
import copy
import datetime
import re
import sys
from pathlib import Path

import nbformat

from tools.matrix import is_emr_cell
from tools.notebooks import ROOT, all_notebooks, report

FOLDER = ROOT / "executed"
NOTE_TAG = "executed-copy-note"
MAX_IMAGE_BYTES = 150_000          # a matplotlib figure at the default size is 20-60 kB
MAX_COPY_BYTES = 2_000_000
MACHINE_PATHS = re.compile(r"(/tmp/|/home/|/root/|/Users/|/private/var/|[A-Z]:\\\\Users)")


def copy_path(lesson: Path) -> Path:
    return FOLDER / lesson.relative_to(ROOT)


def link_to_copy(lesson: Path) -> str:
    """The relative link a lesson's title cell carries to its executed copy."""
    return f"../executed/{lesson.parent.name}/{lesson.name}"


def title_for_copy(title: str) -> str:
    """The lesson's title cell without its link to the copy (the note below replaces it)."""
    return re.sub(r"\n*\*\*Outputs without running:\*\*[^\n]*", "", title)


def note(lesson: Path, day: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(
        f"> **An executed copy, for reading.** Made by `make published` on {day}: the offline run "
        f"(localaws on a 2-core laptop, the repository's samples). Figures on AWS or on full data "
        f"differ. To run the lesson, open [{lesson.name}](../../{lesson.parent.name}/{lesson.name}).")
    cell.metadata["tags"] = [NOTE_TAG]
    cell.pop("id", None)  # the lessons are nbformat 4.4, without cell ids: no random churn per build
    return cell


SCRUBBED = [  # places on the machine that made the copy, which mean nothing to a reader
    (re.compile(r"/tmp/localaws-\w+/"), "<localaws workdir>/"),     # the emulator's SDK config
    (re.compile(r"/tmp/ipykernel_\d+/\d+\.py"), "<cell>"),          # a warning raised in a cell
]


def _scrub(text: str) -> str:
    text = text.replace(str(ROOT), "<repository>")
    for pattern, replacement in SCRUBBED:
        text = pattern.sub(replacement, text)
    return text


def _small_image(output: dict) -> None:
    """A PNG over the limit (a photo, a word cloud) as a 256-colour PNG, or else a JPEG."""
    import io

    from PIL import Image

    data = output.get("data", {})
    raw = base64.b64decode(data.get("image/png", ""))
    if len(raw) <= MAX_IMAGE_BYTES:
        return
    image = Image.open(io.BytesIO(raw))
    smaller = io.BytesIO()
    image.convert("RGB").quantize(256).save(smaller, format="PNG", optimize=True)
    if smaller.tell() <= MAX_IMAGE_BYTES:
        data["image/png"] = base64.b64encode(smaller.getvalue()).decode()
        return
    smaller = io.BytesIO()
    image.convert("RGB").save(smaller, format="JPEG", quality=80, optimize=True)
    del data["image/png"]
    data["image/jpeg"] = base64.b64encode(smaller.getvalue()).decode()


def _scrub_outputs(outputs: list) -> list:
    kept = []
    for output in outputs:
        output = copy.deepcopy(output)
        if "text" in output:
            output["text"] = _scrub(output["text"])
        for kind, value in list(output.get("data", {}).items()):
            if kind.startswith("text/") and isinstance(value, str):
                output["data"][kind] = _scrub(value)
        _small_image(output)
        kept.append(output)
    return kept


def build(build_dir: Path, lessons: list[Path] | None = None) -> list[str]:
    """Write the executed copy of each lesson that `make run` executed; return what was skipped."""
    day = datetime.date.today().isoformat()
    skipped = []
    for lesson in lessons or all_notebooks():
        executed_path = build_dir / "executed" / lesson.parent.name / lesson.name
        if not executed_path.exists():
            skipped.append(f"{lesson.relative_to(ROOT)}: not executed in {build_dir}")
            continue
        source = nbformat.read(lesson, as_version=4)
        executed = nbformat.read(executed_path, as_version=4)
        ran = [c for c in executed.cells if c.cell_type == "code"
               and "injected-parameters" not in c.metadata.get("tags", [])]
        offline = [c for c in source.cells if c.cell_type == "code" and not is_emr_cell(c)]
        if [c.source for c in ran] != [c.source for c in offline]:  # prose may change; code may not
            skipped.append(f"{lesson.relative_to(ROOT)}: its code changed since {executed_path} was run")
            continue
        if any(o.get("output_type") == "error" for c in ran for o in c.get("outputs", [])):
            skipped.append(f"{lesson.relative_to(ROOT)}: its run failed")
            continue
        for cell, done in zip(offline, ran):
            cell.outputs = _scrub_outputs(done.get("outputs", []))
            cell.execution_count = done.get("execution_count")
        source.cells[0].source = title_for_copy(source.cells[0].source)
        source.cells.insert(1, note(lesson, day))
        target = copy_path(lesson)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(source, target)
    return skipped


def problems(lesson: Path) -> list[str]:
    """Why the executed copy of this lesson cannot be shown as it is."""
    target = copy_path(lesson)
    if not target.exists():
        return ["no executed copy: run `make published`"]
    found = []
    published = nbformat.read(target, as_version=4)
    lesson_cells = nbformat.read(lesson, as_version=4).cells
    lesson_cells[0].source = title_for_copy(lesson_cells[0].source)
    cells = [c for c in published.cells if NOTE_TAG not in c.metadata.get("tags", [])]
    if len(cells) == len(published.cells):
        found.append("the note under the title is missing")
    if [(c.cell_type, c.source) for c in cells] != [(c.cell_type, c.source) for c in lesson_cells]:
        found.append("the lesson changed after its copy was made: run `make published`")
    for cell in cells:
        if cell.cell_type != "code":
            continue
        if not is_emr_cell(cell) and cell.get("execution_count") is None:
            found.append(f"a cell was not executed: {cell.source.splitlines()[0] if cell.source else ''!r}")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"an error output: {output.get('ename')}")
            texts = [output.get("text", "")] + [v for k, v in output.get("data", {}).items()
                                                 if k.startswith("text/") and isinstance(v, str)]
            for text in texts:
                match = MACHINE_PATHS.search(text) or re.search(re.escape(str(ROOT)), text)
                if match:
                    found.append(f"a machine path in an output: …{text[max(0, match.start() - 40):match.end() + 40]!r}…")
            image = output.get("data", {}).get("image/png") or output.get("data", {}).get("image/jpeg")
            if image and len(base64.b64decode(image)) > MAX_IMAGE_BYTES:
                found.append(f"an image of {len(base64.b64decode(image)):,} bytes (limit {MAX_IMAGE_BYTES:,})")
    if target.stat().st_size > MAX_COPY_BYTES:
        found.append(f"{target.stat().st_size:,} bytes (limit {MAX_COPY_BYTES:,})")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("build", help="copy the outputs of a `make run` into executed/")
    make.add_argument("build_dir", nargs="?", type=Path, default=ROOT / "build")
    sub.add_parser("check", help="every lesson has a current executed copy")
    args = parser.parse_args()
    if args.command == "build":
        for reason in build(args.build_dir):
            print("not copied:", reason)
    bad = {lesson: problems(lesson) for lesson in all_notebooks()}
    return report(bad, f"{sum(not f for f in bad.values())} of {len(bad)} executed copies are current")


if __name__ == "__main__":
    sys.exit(main())
