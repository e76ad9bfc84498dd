"""localaws/boot ends a notebook kernel without the interpreter's teardown, after every
`atexit` hook has run; every other process ends as usual, with its own status."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from localaws.emulator import BOOT_DIR

# A cell that leaves two traces on its way out: an atexit hook (a notebook's clean-up, which
# must run) and an object freed only by the interpreter's teardown (which is skipped). The
# object hangs off a module: IPython's own atexit hook already empties the notebook's namespace.
TRACES = """
import atexit, pathlib, sys, types
OUT = pathlib.Path({folder!r})
atexit.register(lambda: (OUT / "atexit").write_text("ran"))

class FreedAtTeardown:  # it keeps what it needs: the notebook's names are gone by then
    def __init__(self, path):
        self.path, self.write = path, open

    def __del__(self):
        with self.write(self.path, "w") as trace:
            trace.write("ran")

sys.modules["held_until_teardown"] = types.ModuleType("held_until_teardown")
sys.modules["held_until_teardown"].held = FreedAtTeardown(str(OUT / "teardown"))
"""


def run_kernel(tmp_path: Path, fast_exit: str) -> set[str]:
    folder = tmp_path / f"traces-{fast_exit}"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(TRACES.format(folder=str(folder)))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "traces.ipynb")
    env = {**os.environ, "PYTHONPATH": str(BOOT_DIR), "LOCALAWS_FAST_EXIT": fast_exit}
    env.pop("COVERAGE_PROCESS_START", None)
    subprocess.run([sys.executable, "-m", "papermill", str(tmp_path / "traces.ipynb"), str(tmp_path / "out.ipynb"),
                    "-k", "python3", "--no-progress-bar"], env=env, check=True, capture_output=True, timeout=120)
    return {p.name for p in folder.iterdir()}


def test_a_kernel_runs_its_atexit_hooks_and_skips_the_teardown(tmp_path):
    assert run_kernel(tmp_path, "1") == {"atexit"}


def test_with_fast_exit_off_the_kernel_tears_down_as_usual(tmp_path):
    # the same notebook with the switch off: the teardown frees the object (so the check above can fail)
    assert run_kernel(tmp_path, "0") == {"atexit", "teardown"}


@pytest.mark.parametrize("code, status", [("import sys; sys.exit(3)", 3), ("raise SystemExit(4)", 4),
                                          ("raise ValueError('boom')", 1), ("pass", 0)])
def test_any_other_process_ends_with_its_own_status(code, status):
    env = {**os.environ, "PYTHONPATH": str(BOOT_DIR), "LOCALAWS_FAST_EXIT": "1"}
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=False).returncode == status
