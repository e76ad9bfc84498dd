"""The EMR PySpark kernel, offline: what a notebook meets in EMR Studio, minus the cluster.

    <emr-7 venv>/bin/python tools/emr_kernel.py -f CONNECTION_FILE   (Jupyter starts it)

On EMR the notebook's code runs on the cluster through sparkmagic and Livy. This kernel
re-creates what that code can see (the facts and their sources are in platforms/README.md):
- `spark` and `sc` are defined before the first cell, as Livy does;
- only the cluster's libraries are importable (platforms/emr-7/image.txt: PySpark, numpy);
- `sc.install_pypi_package("pkg==1.0")` installs a notebook-scoped library, visible to the
  driver and the executors for this session only, overriding the cluster's version;
  `sc.list_packages()` lists both; `sc.uninstall_package()` removes only notebook-scoped ones
  (EMR docs: "Installing and using kernels and libraries");
- `%matplot plt` shows the current matplotlib figure as a PNG, as sparkmagic's magic does
  (Livy's fake_shell `magic_matplot`); `plt.show()` shows nothing, as on the cluster;
- the working directory is not the notebook's folder, so the notebook's files are not there.

The notebook-scoped environment is a virtualenv of its own whose site-packages sees the
cluster's through a .pth file; Spark's Python workers run in it too. It is removed when the
kernel exits (and stale ones from killed kernels at the next start). Python 3.9 code.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SESSIONS = Path(sys.prefix) / "sessions"
SESSION_STARTUP = Path(__file__).resolve().with_name("emr_session.py")  # run in the kernel's namespace
INSTALLER = Path(__file__).resolve().with_name("emr_install.py")  # what sc.install_pypi_package runs


def _clear_stale_sessions() -> None:
    for old in SESSIONS.glob("session-*"):
        pid_file = old / "kernel.pid"
        try:
            os.kill(int(pid_file.read_text()), 0)
        except (OSError, ValueError):
            shutil.rmtree(old, ignore_errors=True)


def _create_session() -> Path:
    SESSIONS.mkdir(exist_ok=True)
    _clear_stale_sessions()
    session = Path(tempfile.mkdtemp(prefix="session-", dir=SESSIONS))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(session / "venv")], check=True)
    site = next((session / "venv" / "lib").glob("python3.*")) / "site-packages"
    cluster_site = next(p for p in sys.path if p.endswith("site-packages") and p.startswith(sys.prefix))
    (site / "cluster-libraries.pth").write_text(cluster_site + "\n")
    (session / "kernel.pid").write_text(str(os.getpid()))
    return session


def launch(argv: list) -> None:
    # IPython reports an exception in a startup file only as "Unknown error in handling
    # exec_files" and starts anyway, without `spark` and `sc`: fail here, loudly, instead.
    compile(SESSION_STARTUP.read_text(), str(SESSION_STARTUP), "exec")
    session = _create_session()
    python = str(session / "venv" / "bin" / "python")
    scratch = session / "driver"
    scratch.mkdir()
    os.environ.update({
        "PYSPARK_PYTHON": python, "PYSPARK_DRIVER_PYTHON": python,
        "MPLBACKEND": "Agg",  # no inline figures: the cluster has no display
        "EMR_NOTEBOOK_SESSION": str(session), "EMR_CLUSTER_PYTHON": sys.executable, "EMR_INSTALLER": str(INSTALLER),
    })
    os.chdir(scratch)
    os.execv(python, [python, "-m", "ipykernel_launcher", *argv,
                      f"--IPKernelApp.exec_files=[{str(SESSION_STARTUP)!r}]"])


if __name__ == "__main__":
    launch(sys.argv[1:])
