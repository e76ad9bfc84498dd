"""The test harness itself can fail: a broken cell or a forgotten endpoint is caught."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def run_pytest_on(tmp_path: Path, *cells: str) -> subprocess.CompletedProcess:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("X = 1", metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    chapter = tmp_path / "chapter99_probe"
    chapter.mkdir()
    nbformat.write(nb, chapter / "1_probe.ipynb")
    # load this repository's conftest as a plugin, so the probe runs under the real harness
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "--rootdir", str(tmp_path),
                           "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider", "-q", str(chapter)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})


def test_an_exception_after_importing_the_sdk_fails_the_cell(tmp_path):
    # sagemaker-core replaces IPython's traceback display; the harness must still see the error
    done = run_pytest_on(tmp_path, "import sagemaker", "raise ValueError('boom')")
    assert done.returncode == 1 and "1 failed, 3 passed" in done.stdout, done.stdout
    assert "Cell 2" in done.stdout and "boom" in done.stdout


def test_an_endpoint_left_running_fails_the_notebook(tmp_path):
    leave_running = """
import boto3, os
sm = boto3.client('sagemaker')
sm.create_model(ModelName='forgotten', ExecutionRoleArn=os.environ['SAGEMAKER_ROLE_ARN'],
                PrimaryContainer={'Image': '382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1'})
"""
    done = run_pytest_on(tmp_path, leave_running)
    assert done.returncode == 1 and "1 failed, 2 passed" in done.stdout, done.stdout
    assert "left these running" in done.stdout and "forgotten" in done.stdout


def test_a_notebook_folder_is_worked_in_by_one_run_at_a_time(tmp_path):
    """Two runs of chapter 14 in one checkout rewrote work/train.csv under each other's upload
    (tools/folder_lock.py): while one run holds a folder, another process cannot take it."""
    import subprocess
    import sys

    from tools.folder_lock import LOCKS, FolderLock

    folder = tmp_path / "chapter99_example"
    folder.mkdir()
    probe = ("import fcntl, sys; f = open(sys.argv[1], 'w')\n"
             "try:\n    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB); print('free')\n"
             "except BlockingIOError:\n    print('held')")
    lock = FolderLock()
    lock.hold(folder)
    try:
        held = subprocess.run([sys.executable, "-c", probe, str(LOCKS / "chapter99_example.lock")],
                              capture_output=True, text=True).stdout.strip()
        lock.hold(folder)  # the same folder again: still held, not re-taken
    finally:
        lock.release()
    free = subprocess.run([sys.executable, "-c", probe, str(LOCKS / "chapter99_example.lock")],
                          capture_output=True, text=True).stdout.strip()
    assert (held, free) == ("held", "free")
