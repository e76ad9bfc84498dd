"""The offline EMR PySpark kernel (tools/emr_kernel.py) behaves as EMR Studio's does where the
notebooks can tell: `spark`/`sc` predefined, only the cluster's libraries, notebook-scoped
installs that vanish with the session, %matplot, and not the notebook's folder as cwd.
Facts and sources: platforms/README.md ("EMR 7.x"). Needs the emr-7 kernel (`make kernels`)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tools import platforms

EMR = platforms.BY_NAME["emr-7"]
pytestmark = pytest.mark.skipif(bool(platforms.status(EMR)), reason=f"emr-7: {platforms.status(EMR)}")


class Kernel:
    """One EMR kernel session driven through jupyter_client, as papermill drives it."""

    def __init__(self, cwd=None):
        from jupyter_client.manager import KernelManager

        os.environ["JUPYTER_PATH"] = str(platforms.BUILD)
        self.manager = KernelManager(kernel_name=EMR.kernel)
        self.manager.start_kernel(**({"cwd": str(cwd)} if cwd else {}))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def run(self, code: str) -> tuple[str, list[dict]]:
        """('ok' or the exception name, the display/stream outputs)."""
        outputs: list[dict] = []
        reply = self.client.execute_interactive(code, timeout=300, output_hook=outputs.append)
        status = reply["content"]["status"]
        return (reply["content"].get("ename", "error") if status == "error" else "ok"), outputs

    def close(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel():
    started = Kernel()
    yield started
    started.close()


def text(outputs: list[dict]) -> str:
    return "".join(o["content"].get("text", "") for o in outputs if o["msg_type"] == "stream")


def test_spark_and_sc_are_predefined_on_python_3_9(kernel):
    status, outputs = kernel.run("import sys; print(sys.version_info[:2], spark.version, sc is spark.sparkContext)")
    assert status == "ok"
    assert "(3, 9) 3.5.6 True" in text(outputs)


def test_only_the_cluster_libraries_are_importable(kernel):
    assert kernel.run("import numpy, pyspark.ml")[0] == "ok"
    for module in ("pandas", "matplotlib", "sklearn", "sagemaker"):
        assert kernel.run(f"import {module}")[0] == "ModuleNotFoundError", module


def test_the_working_directory_is_not_the_repository():
    """Started in a chapter's folder, as papermill starts it, the code still runs on the
    'cluster': in the session's own driver directory, where ../data does not exist."""
    started = Kernel(cwd=platforms.ROOT / "chapter15_emr")
    try:
        status, outputs = started.run("import os; print(os.getcwd()); print(os.path.exists('../data/samples'))")
    finally:
        started.close()
    assert status == "ok", text(outputs)
    cwd, data_visible = text(outputs).split()
    assert os.path.basename(cwd) == "driver"  # the session's own directory (tools/emr_kernel.py)
    assert data_visible == "False"


def test_a_notebook_scoped_library_reaches_the_executors_and_ends_with_the_session():
    first = Kernel()
    try:
        status, outputs = first.run('sc.install_pypi_package("pyfiglet==1.0.2")')
        assert status == "ok", text(outputs)
        status, outputs = first.run("print(sc.range(0, 4, 1, 2).map(lambda _: __import__('pyfiglet').__name__)"
                                    ".distinct().collect())")
        assert status == "ok" and "['pyfiglet']" in text(outputs)
        assert first.run('sc.uninstall_package("numpy")')[0] == "ValueError"  # a cluster library
    finally:
        first.close()
    second = Kernel()
    try:
        assert second.run("import pyfiglet")[0] == "ModuleNotFoundError"
    finally:
        second.close()


def test_matplot_shows_the_current_figure_and_plt_show_shows_nothing(kernel):
    assert kernel.run('sc.install_pypi_package("matplotlib==3.9.4")')[0] == "ok"
    status, outputs = kernel.run("import matplotlib.pyplot as plt\nplt.plot([1, 2], [3, 4])\nplt.show()")
    assert status == "ok" and not [o for o in outputs if o["msg_type"] == "display_data"]
    status, outputs = kernel.run("%matplot plt")
    assert status == "ok"
    assert [o for o in outputs if o["msg_type"] == "display_data" and "image/png" in o["content"]["data"]]


# sc.install_pypi_package's results kept between sessions (tools/emr_install.py)

def new_session() -> Path:
    """A notebook session's environment as the kernel creates it, without starting the kernel."""
    code = "import sys; sys.path.insert(0, 'tools'); import emr_kernel; print(emr_kernel._create_session())"
    done = subprocess.run([str(EMR.venv / "bin" / "python"), "-c", code], cwd=platforms.ROOT,
                          capture_output=True, text=True, check=True)
    session = Path(done.stdout.strip())
    (session / "kernel.pid").write_text(str(os.getpid()))  # alive: the next session must not clear it
    return session


def install(session, package, cache) -> None:
    done = subprocess.run([str(EMR.venv / "bin" / "python"), str(platforms.ROOT / "tools" / "emr_install.py"),
                           str(session / "venv" / "bin" / "python"), package],
                          env={**os.environ, "EMR_INSTALL_CACHE": str(cache)}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def contents(session) -> dict:
    """Every file of the session's site-packages (but its link to the cluster) -> its bytes'
    digest. Bytecode and RECORD differ between any two pip runs (source times and paths inside,
    the scripts' hashes), so only their presence counts."""
    site = next((session / "venv" / "lib").glob("python3.*")) / "site-packages"
    return {p.relative_to(site).as_posix(): None if p.suffix == ".pyc" or p.name == "RECORD"
            else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in site.rglob("*") if p.is_file() and p.name != "cluster-libraries.pth"}


@pytest.fixture
def sessions():
    made = []
    yield lambda: made.append(new_session()) or made[-1]
    for session in made:
        shutil.rmtree(session, ignore_errors=True)


def test_an_install_a_session_repeats_is_what_pip_left_the_first_time(sessions, tmp_path):
    """Two installs in order (the second a dependency of nothing), pip's files byte for byte,
    its console script pointing at the new session, and no pip run the second time (the files
    are the stored ones, hard-linked)."""
    first, second, uncached = sessions(), sessions(), sessions()
    for session, cache in ((first, tmp_path / "cache"), (second, tmp_path / "cache"), (uncached, "off")):
        install(session, "pyfiglet==1.0.2", cache)
        install(session, "six==1.16.0", cache)
    assert contents(second) == contents(first) == contents(uncached)
    site = next((second / "venv" / "lib").glob("python3.*")) / "site-packages"
    assert (site / "six.py").stat().st_nlink > 1  # linked from the store, not written by pip
    script = (second / "venv" / "bin" / "pyfiglet").read_text().splitlines()[0]
    assert script == f"#!{second / 'venv' / 'bin' / 'python'}"
    assert len(list((tmp_path / "cache").iterdir())) == 2  # one entry per (session state, package)


def test_an_expired_install_is_asked_of_pip_again(sessions, tmp_path):
    install(sessions(), "six==1.16.0", tmp_path)
    entry = next(tmp_path.iterdir())
    meta = json.loads((entry / "meta.json").read_text())
    (entry / "meta.json").write_text(json.dumps({**meta, "created": meta["created"] - 2 * 24 * 3600}))
    later = sessions()
    install(later, "six==1.16.0", tmp_path)
    site = next((later / "venv" / "lib").glob("python3.*")) / "site-packages"
    assert (site / "six.py").exists()
    assert json.loads((next(tmp_path.iterdir()) / "meta.json").read_text())["created"] > meta["created"]


def test_a_failing_install_shows_pips_error_and_is_not_kept(sessions, tmp_path):
    done = subprocess.run([str(EMR.venv / "bin" / "python"), str(platforms.ROOT / "tools" / "emr_install.py"),
                           str(sessions() / "venv" / "bin" / "python"), "no-such-package-mmlaws==0.0.1"],
                          env={**os.environ, "EMR_INSTALL_CACHE": str(tmp_path)}, capture_output=True, text=True)
    assert done.returncode != 0 and "no-such-package-mmlaws" in done.stderr
    assert not list(tmp_path.iterdir())


def test_the_kernel_and_its_spark_workers_write_their_bytecode(kernel):
    """The kernels are built without bytecode (tools/platforms.build); each writes what it
    imports, once, even where PYTHONDONTWRITEBYTECODE=1 is set for everything else."""
    status, outputs = kernel.run("import sys; print(sys.flags.dont_write_bytecode, "
                                 "sc.range(0, 2, 1, 2).map(lambda _: __import__('sys').flags.dont_write_bytecode)"
                                 ".distinct().collect())")
    assert status == "ok" and text(outputs).split() == ["0", "[0]"], text(outputs)
