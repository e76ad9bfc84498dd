"""Run in the offline EMR kernel's namespace before the first cell (see tools/emr_kernel.py):
Livy's `spark` and `sc`, EMR's notebook-scoped libraries on `sc`, sparkmagic's `%matplot`.
Python 3.9 code; every helper name starts with `_emr`, out of the way of the notebook's own.
"""
import atexit as _emr_atexit
import os as _emr_os
import shutil as _emr_shutil
import subprocess as _emr_subprocess
import sys as _emr_sys

from pyspark import SparkContext as _EmrSparkContext
from pyspark.sql import SparkSession as _EmrSparkSession

_emr_session_dir = _emr_os.environ["EMR_NOTEBOOK_SESSION"]


def _emr_pip(*args):
    """The cluster's pip, installing into this notebook session's environment."""
    command = [_emr_os.environ["EMR_CLUSTER_PYTHON"], "-m", "pip", "--disable-pip-version-check",
               "--python", _emr_sys.executable, *args]
    return _emr_subprocess.run(command, capture_output=True, text=True)


def _emr_install_pypi_package(self, package, repo=None):
    """sc.install_pypi_package("pandas==2.2.3") as on EMR: for this notebook session only.
    pip does the install (tools/emr_install.py, which keeps each result for the next session)."""
    import importlib

    command = [_emr_os.environ["EMR_CLUSTER_PYTHON"], _emr_os.environ["EMR_INSTALLER"],
               _emr_sys.executable, package, *([repo] if repo else [])]
    done = _emr_subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"install_pypi_package({package!r}) failed:\n{done.stderr.strip()[-3000:]}")
    importlib.invalidate_caches()
    print(f"Successfully installed {package} for this notebook session")


def _emr_list_packages(self):
    print(_emr_pip("list").stdout)


def _emr_uninstall_package(self, package):
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        location = str(distribution(package).locate_file(""))
    except PackageNotFoundError:
        raise ValueError(f"{package} is not installed") from None
    if not location.startswith(_emr_session_dir):
        raise ValueError(f"{package} is installed on the cluster; only libraries installed with "
                         "install_pypi_package can be uninstalled")
    print(_emr_pip("uninstall", "-y", package).stdout.strip())


def _emr_matplot(line):
    """%matplot plt: the current figure of the named pyplot module, as a PNG."""
    import io

    from IPython.display import Image, display

    name = line.strip() or "plt"
    namespace = get_ipython().user_ns  # noqa: F821 (IPython's)
    if name not in namespace:
        raise NameError(f"%matplot: name {name!r} is not defined (import matplotlib.pyplot as {name} first)")
    buffer = io.BytesIO()
    namespace[name].gcf().savefig(buffer, format="png")
    display(Image(buffer.getvalue()))


_EmrSparkContext.install_pypi_package = _emr_install_pypi_package
_EmrSparkContext.list_packages = _emr_list_packages
_EmrSparkContext.uninstall_package = _emr_uninstall_package
get_ipython().register_magic_function(_emr_matplot, "line", "matplot")  # noqa: F821
_emr_atexit.register(_emr_shutil.rmtree, _emr_session_dir, True)

try:
    spark = _EmrSparkSession.builder.appName("livy-session-0").getOrCreate()
    sc = spark.sparkContext
except Exception:  # IPython would only say "Unknown error in handling exec_files"
    import traceback as _emr_traceback

    _emr_traceback.print_exc(file=_emr_sys.__stderr__)
    raise

