"""The offline EMR PySpark kernel (tools/emr_kernel.py) behaves as EMR Studio's does where the
notebooks can tell: `spark`/`sc` predefined, only the cluster's libraries, notebook-scoped
installs that vanish with the session, %matplot, and not the notebook's folder as cwd.
Facts and sources: platforms/README.md ("EMR 7.x"). Needs the emr-7 kernel (`make kernels`)."""
from __future__ import annotations

import os

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
