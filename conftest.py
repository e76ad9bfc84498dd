"""The test session: one offline AWS for every test and notebook, started before any kernel.

nbval runs each notebook cell by cell (lax mode: a cell fails only if it raises). After a
notebook's last cell, a `checks` item asserts that its cleanup left nothing running and
that the figures it recorded are within the bands of tools/figures/chapterNN.yml.
"""
from __future__ import annotations

import os
import runpy
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from tools import figures, test_order  # noqa: E402
from tools.folder_lock import FolderLock  # noqa: E402
from tools.java import JavaNotFound  # noqa: E402
from tools.matrix import is_emr_cell  # noqa: E402
from tools.notebook_env import prepare_notebook_environment  # noqa: E402

NOTEBOOK_TIMES: dict[str, float] = {}
_started: dict[str, float] = {}


def _fail_cells_whose_reply_is_an_error():
    """sagemaker-core installs rich's traceback printer in IPython, which shows an exception
    as ordinary output instead of an 'error' message, the only thing nbval looks for: a
    failing cell would pass. The kernel's execute_reply still says status 'error', so the
    cell fails on that, with the printed traceback as its report."""
    from nbval.kernel import RunningKernel
    from nbval.plugin import IPyNbCell

    def await_reply(self, msg_id, timeout=None):
        while True:
            msg = self.get_message(stream="shell", timeout=timeout)
            if msg["parent_header"].get("msg_id") == msg_id:
                if msg["content"]["status"] == "aborted":
                    raise RuntimeError("Kernel aborted execution request")
                self.last_reply = msg["content"]
                return

    run_cell = IPyNbCell.runtest

    def runtest(self):
        self.parent.kernel.last_reply = None
        run_cell(self)
        reply = self.parent.kernel.last_reply or {}
        if reply.get("status") == "error":
            printed = "".join(o.get("text", "") for o in getattr(self, "test_outputs", []) or [])
            self.raise_cell_error("Cell execution caused an exception",
                                  f"\n{reply.get('ename')}: {reply.get('evalue')}\n" + printed[-6000:])

    RunningKernel.await_reply = await_reply
    IPyNbCell.runtest = runtest


SUITE_PID = "MASTERING_ML_TEST_SUITE_PID"  # the outermost pytest of this run: see pytest_sessionfinish


def pytest_configure(config):
    os.environ.setdefault(SUITE_PID, str(os.getpid()))
    _fail_cells_whose_reply_is_an_error()
    try:
        prepare_notebook_environment()
    except JavaNotFound as err:
        raise pytest.UsageError(str(err))
    if _is_xdist_controller(config):
        return  # each pytest-xdist worker starts its own emulator (the leftover checks are per worker)
    if _is_xdist_worker(config) or "LOCALAWS_ENDPOINT" not in os.environ:  # else under `localaws run`
        from localaws.emulator import Emulator

        config._localaws = Emulator(strict=True).start()
        config._localaws.export()
        # the SDK in this process (unit tests) polls as fast as the SDK in the kernels
        runpy.run_path(str(config._localaws.BOOT_DIR / "sitecustomize.py"))


@pytest.fixture(scope="module")
def emulator(pytestconfig):
    """This worker's emulator, or the one `localaws run` started around pytest: what a test
    that runs notebooks itself (platform matrix, failure injection) runs them against."""
    from types import SimpleNamespace

    own = getattr(pytestconfig, "_localaws", None)
    return own or SimpleNamespace(env={}, url=os.environ["LOCALAWS_ENDPOINT"])


def _is_xdist_worker(config) -> bool:
    return hasattr(config, "workerinput")


def _is_xdist_controller(config) -> bool:
    return not _is_xdist_worker(config) and (config.getoption("numprocesses", None) or 0) > 0


def pytest_sessionfinish(session):
    # the controller sees every report; a pytest that a test runs (tests/test_harness.py, on
    # notebooks of its own) is not this checkout's suite: it inherits the outer one's pid
    if not _is_xdist_worker(session.config) and SCOPE_SECONDS and os.environ[SUITE_PID] == str(os.getpid()):
        test_order.record(SCOPE_SECONDS)


def pytest_unconfigure(config):
    _folder_lock.release()
    emulator = getattr(config, "_localaws", None)
    if emulator:
        emulator.stop()


def _admin(action: str, method: str = "GET") -> dict:
    from localaws.services import admin

    return admin(os.environ["LOCALAWS_ENDPOINT"], action, post=method == "POST")


def _name(path: Path) -> str:
    """A notebook's name as the figures files and the run-time table know it."""
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:  # a notebook outside this repository (the harness's own tests)
        return Path(path).as_posix()


def _is_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell"


class NotebookChecks(pytest.Item):
    """Runs after a notebook's last cell: nothing left running, figures within their bands."""

    def __init__(self, *, notebook: Path, **kwargs):
        super().__init__(**kwargs)
        self.notebook = notebook

    def runtest(self):
        relative = _name(self.notebook)
        # reported through the test report, so pytest-xdist's controller sees it too
        self.user_properties.append(("notebook_seconds", time.time() - _started.get(relative, time.time())))
        problems = []
        leftovers = _admin("leftovers")
        if leftovers:
            _admin("reset", "POST")  # so the next notebook starts clean
            problems.append(f"the notebook's cleanup left these running: {leftovers}")
        expected = figures.load().get(relative)
        if expected:
            measured = figures.read_metrics(self.notebook)
            path = figures.metrics_path(self.notebook)
            if measured is None or path.stat().st_mtime < _started.get(relative, 0):
                problems.append(f"no fresh metrics in {_name(path)}")
            else:
                problems += figures.out_of_band(expected, measured)
        if problems:
            raise AssertionError(f"{relative}:\n  " + "\n  ".join(problems))

    def repr_failure(self, excinfo, style=None):
        return str(excinfo.value)

    def reportinfo(self):
        return self.path, None, f"{self.notebook.name}::checks"


EMR_ONLY = pytest.mark.skip(reason="cell tagged 'emr': EMR Studio only (the emr-7 platform kernel runs it)")


def pytest_collection_modifyitems(session, config, items):
    """Put a `checks` item right after the last cell of every notebook; skip `emr` cells."""
    result = []
    for index, item in enumerate(items):
        if _is_cell(item) and is_emr_cell(item.cell):
            item.add_marker(EMR_ONLY)
        result.append(item)
        following = items[index + 1] if index + 1 < len(items) else None
        if _is_cell(item) and (following is None or following.parent is not item.parent):
            notebook = Path(str(item.parent.path))
            result.append(NotebookChecks.from_parent(item.parent, name="checks", notebook=notebook))
    items[:] = result


def pytest_xdist_make_scheduler(config, log):
    """With `pytest -n N`: a chapter's notebooks run in order on one worker (a notebook's cells
    share a kernel; a chapter's notebooks may share files in work/); chapters, test files and
    the platform matrix's notebooks run side by side, the longest first (tools/test_order.py)."""
    from xdist.scheduler import LoadScopeScheduling

    class LongestFirst(LoadScopeScheduling):
        _ordered = False

        def _split_scope(self, nodeid: str) -> str:
            return test_order.scope(nodeid)

        def _assign_work_unit(self, node):
            if not self._ordered:  # the first call comes with the whole queue built
                self.workqueue = test_order.longest_first(self.workqueue)
                self._ordered = True
            super()._assign_work_unit(node)

    return LongestFirst(config, log)


_folder_lock = FolderLock()  # nbval runs a notebook in its folder: see tools/folder_lock.py


def pytest_runtest_setup(item):
    notebook_item = _is_cell(item) or isinstance(item, NotebookChecks)
    _folder_lock.hold(Path(str(item.parent.path)).parent if notebook_item else None)
    if _is_cell(item):
        _started.setdefault(_name(item.parent.path), time.time())


SCOPE_SECONDS: dict[str, float] = {}


def pytest_runtest_logreport(report):
    unit = test_order.scope(report.nodeid)
    SCOPE_SECONDS[unit] = SCOPE_SECONDS.get(unit, 0) + report.duration
    properties = dict(getattr(report, "user_properties", []))
    if "notebook_seconds" in properties and report.when == "call":
        # a test that runs several notebooks itself (tests/conformance) names each one
        NOTEBOOK_TIMES[properties.get("notebook", report.nodeid.split("::")[0])] = properties["notebook_seconds"]


def pytest_terminal_summary(terminalreporter):
    if NOTEBOOK_TIMES:
        terminalreporter.section("notebook run times (offline)")
        for name, seconds in sorted(NOTEBOOK_TIMES.items()):
            terminalreporter.write_line(f"{seconds:7.1f} s  {name}")
        terminalreporter.write_line(f"{sum(NOTEBOOK_TIMES.values()):7.1f} s  all notebooks")
