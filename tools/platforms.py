"""The places readers open the notebooks, re-created on this machine as Jupyter kernels.

    python -m tools.platforms build [NAME ...]   create or update the platform kernels
    python -m tools.platforms list               each platform: Python, kernel, notebooks
    python -m tools.platforms lock NAME          write platforms/<folder>/image.lock from a built kernel

Each platform is a virtualenv on that platform's Python (found through pyenv or on PATH),
with the libraries the platform ships (`platforms/<folder>/image.txt`) installed first and
then, as a separate step as a reader would, what the README tells the reader to install
there (`install.txt`). `image.lock`, where present, is pip's own resolution of image.txt
(`pip freeze` of a built kernel) and constrains the first step, so that a build does not
spend minutes in pip's resolver (SageMaker SDK 3's dependency tree took over ten). It is registered as the Jupyter kernel `platform-<name>` under
build/platforms/kernels (JUPYTER_PATH=build/platforms). localaws keeps running from the
project's own virtualenv; only the notebook's kernel changes.

Where a platform's Python is missing, `build` says so and goes on: the matrix then reports
that platform as not run, with the reason, never as passed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "platforms"
BUILD = ROOT / "build" / "platforms"
EMR_KERNEL = ROOT / "tools" / "emr_kernel.py"  # run from the repository: editing it needs no rebuild


@dataclass(frozen=True)
class Platform:
    name: str
    title: str
    python: str                 # major.minor
    notebooks: str              # "sagemaker" (AWS API notebooks) or "spark" (PySpark notebooks)
    folder: str = ""            # under platforms/, if not the name
    steps: tuple[str, ...] = ("image.txt", "install.txt")
    expect_sdk_stop: bool = False  # every notebook must stop at its SDK check, naming the fix
    emr: bool = False           # PySpark kernel as on EMR: `spark`/`sc` predefined, %matplot
    label: str = ""             # short column heading of the matrix tables
    disk_gb: float = 1.0        # its virtualenv's size as measured from a clean clone (du -sh)

    @property
    def kernel(self) -> str:
        return f"platform-{self.name}"

    @property
    def venv(self) -> Path:
        return BUILD / self.name

    def requirement_files(self) -> list[Path]:
        return [SPECS / (self.folder or self.name) / step for step in self.steps]

    @property
    def lock(self) -> Path:
        return SPECS / (self.folder or self.name) / "image.lock"


PLATFORMS = (
    Platform("sagemaker-distribution-3", "SageMaker Studio, SageMaker Distribution 3.x", "3.12", "sagemaker",
             label="Studio 3.x", disk_gb=0.5),
    Platform("sagemaker-distribution-4", "SageMaker Studio, SageMaker Distribution 4.x as shipped (SDK v3)",
             "3.12", "sagemaker", steps=("image.txt",), expect_sdk_stop=True, label="Studio 4.x",
             disk_gb=6.2),
    Platform("sagemaker-distribution-4-sdk-v2", "SageMaker Studio, SageMaker Distribution 4.x after "
             "%pip install 'sagemaker>=2.245,<3'", "3.12", "sagemaker", folder="sagemaker-distribution-4",
             label="Studio 4.x + SDK v2", disk_gb=6.2),
    Platform("notebook-instance", "SageMaker notebook instance, conda_python3", "3.10", "sagemaker",
             label="notebook instance", disk_gb=1.3),
    # 0.5 GB of kernel, plus the notebook-scoped virtualenvs its sessions install
    # (tensorflow-cpu among them) while the matrix runs; what they install is also kept, for
    # a day, in ~/.cache/mastering-ml-aws/emr-notebook-scoped (about 2.3 GB, tools/emr_install.py)
    Platform("emr-7", "EMR 7.x, PySpark kernel (EMR Studio)", "3.9", "spark", steps=("image.txt",), emr=True,
             label="EMR 7", disk_gb=3.0),
)
BY_NAME = {p.name: p for p in PLATFORMS}


class InterpreterMissing(Exception):
    pass


def find_python(version: str) -> Path:
    """The newest pyenv CPython `version`.x, else `pythonX.Y` on PATH."""
    pattern = re.compile(rf"^{re.escape(version)}\.(\d+)$")
    pyenv = shutil.which("pyenv")
    if pyenv:
        listed = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True).stdout.split()
        matches = sorted((int(m.group(1)), v) for v in listed if (m := pattern.match(v)))
        if matches:
            root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
            candidate = Path(root) / "versions" / matches[-1][1] / "bin" / "python"
            if candidate.exists():
                return candidate
    on_path = shutil.which(f"python{version}")
    if on_path:
        return Path(on_path)
    raise InterpreterMissing(f"Python {version} is not on this machine (neither pyenv nor python{version} on PATH): "
                             f"install it, e.g. `pyenv install {version}`, then `make kernels`")


# Bumped when the way a kernel is built changes, so that `make kernels` rebuilds them.
BUILD_RECIPE = "2026-12-07: the notebooks' imports compiled after install, the rest on first import"


def fingerprint(platform: Platform, python: Path) -> str:
    digest = hashlib.sha256(f"{python} {platform.emr} {BUILD_RECIPE}".encode())
    for path in platform.requirement_files() + [platform.lock] * platform.lock.exists():
        digest.update(path.read_bytes())
    return digest.hexdigest()


def status(platform: Platform) -> str | None:
    """None when the kernel is built and current, else why it cannot run."""
    try:
        python = find_python(platform.python)
    except InterpreterMissing as err:
        return str(err)
    stamp = platform.venv / ".installed"
    if not stamp.exists() or stamp.read_text().strip() != fingerprint(platform, python):
        return f"kernel {platform.kernel} is not built or out of date: run `make kernels`"
    return None


# A run that filled the disk failed halfway through a pip install with "No space left on
# device", after twenty minutes of tests. Each kernel's measured size (Platform.disk_gb; 14.7
# GB for the five on 2026-12-02), with this much room for pip's unpacked wheels on top:
DISK_MARGIN = 1.25


class NotEnoughDisk(Exception):
    pass


def check_free_space(platforms: list[Platform], where: Path = BUILD) -> None:
    """Refuse to start builds the disk cannot hold, saying how much is needed and where."""
    pending = [p for p in platforms if status(p) is not None and not isinstance(_python_or_none(p), Exception)]
    needed = DISK_MARGIN * sum(p.disk_gb for p in pending)
    probe = where
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free / 1e9
    if pending and free < needed:
        raise NotEnoughDisk(
            f"building {len(pending)} platform kernel(s) needs about {needed:.0f} GB on {probe}, and "
            f"{free:.1f} GB are free. Free some space (old clones, build/ directories, `pip cache purge`) "
            "or build fewer: python -m tools.platforms build NAME")


def _python_or_none(platform: Platform):
    try:
        return find_python(platform.python)
    except InterpreterMissing as err:
        return err


def installer() -> str:
    """'uv' when the project's virtualenv has it (make setup installs it) and PLATFORM_INSTALLER
    is not 'pip', else 'pip'. uv installs the same pins several times faster; the resolution
    a reader's pip would make is what the tests compare the kernel with (image.lock, pip check)."""
    if os.environ.get("PLATFORM_INSTALLER", "uv") != "uv":
        return "pip"
    found = subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True)
    return "uv" if found.returncode == 0 else "pip"


def build(platform: Platform) -> None:
    python = find_python(platform.python)
    stamp = platform.venv / ".installed"
    wanted = fingerprint(platform, python)
    if stamp.exists() and stamp.read_text().strip() == wanted:
        print(f"{platform.name}: up to date")
        return
    if platform.venv.exists():
        shutil.rmtree(platform.venv)
    print(f"{platform.name}: creating a Python {platform.python} virtualenv from {python}", flush=True)
    subprocess.run([str(python), "-m", "venv", str(platform.venv)], check=True)
    kernel_python = str(platform.venv / "bin" / "python")
    # No bytecode at install: compiling all of SageMaker Distribution 4 took 20 of its 22 s,
    # and a notebook imports a small part of it. That part is compiled once after the install
    # (write_bytecode); the kernel writes the rest as it imports it (write_kernelspec), as
    # Python does unless PYTHONDONTWRITEBYTECODE is set.
    pip = [kernel_python, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-compile"]
    uv = [sys.executable, "-m", "uv", "pip", "install", "-q", "--python", kernel_python]
    use_uv = installer() == "uv"
    for step, requirements in enumerate(platform.requirement_files()):
        constraints = ["-c", str(platform.lock)] if step == 0 and platform.lock.exists() else []
        print(f"{platform.name}: {'uv ' if use_uv else ''}pip install -r {requirements.relative_to(ROOT)}"
              + (f" -c {platform.lock.relative_to(ROOT)}" if constraints else ""), flush=True)
        if use_uv and subprocess.run([*uv, "-r", str(requirements), *constraints]).returncode == 0:
            continue
        if use_uv:
            print(f"{platform.name}: uv could not install this step; pip installs it", flush=True)
        subprocess.run([*pip, "-r", str(requirements), *constraints], check=True)
    write_kernelspec(platform)
    write_bytecode(platform)
    stamp.write_text(wanted + "\n")
    print(f"{platform.name}: kernel {platform.kernel} ready", flush=True)


# What every kernel imports before a notebook's first cell, and (EMR) what Spark's workers import
KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "pyspark.daemon", "pyspark.worker")


def write_bytecode(platform: Platform) -> None:
    """Import, once, what the platform's notebooks and its kernel import, so that their bytecode
    is written before the tests start two kernels at once that would both compile it. Modules
    the kernel lacks (the repository's own, notebook-scoped libraries on EMR) are passed over."""
    from tools import matrix
    from tools.run_notebooks import discover

    modules = set(KERNEL_MODULES)
    for notebook in matrix.notebooks_for(platform, discover([])):
        modules |= matrix.imported_modules(matrix.notebook_code(notebook))
    code = ("import importlib\nfor name in %r:\n    try:\n        importlib.import_module(name)\n"
            "    except Exception:\n        pass\n" % sorted(modules))
    subprocess.run([str(platform.venv / "bin" / "python"), "-c", code], cwd=platform.venv, capture_output=True,
                   env={**os.environ, "PYTHONDONTWRITEBYTECODE": "", "MPLBACKEND": "Agg"})


def write_lock(platform: Platform) -> None:
    """image.lock: every distribution of the built kernel after its first step (image.txt)."""
    later = [line for path in platform.requirement_files()[1:] for line in path.read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    if status(platform) is not None or later:
        raise SystemExit(f"{platform.name}: lock needs a built kernel of image.txt alone ({status(platform) or later})")
    frozen = subprocess.run([str(platform.venv / "bin" / "python"), "-m", "pip", "freeze", "--all"],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    pins = sorted((line for line in frozen if "==" in line and not line.startswith(("pip==", "setuptools=="))),
                  key=str.lower)
    platform.lock.write_text(f"# pip's resolution of image.txt on Python {platform.python} "
                             f"(python -m tools.platforms lock {platform.name}); used as constraints\n"
                             + "\n".join(pins) + "\n")
    print(f"wrote {platform.lock.relative_to(ROOT)} ({len(pins)} pins)")


def write_kernelspec(platform: Platform) -> None:
    python = str(platform.venv / "bin" / "python")
    argv = ([python, str(EMR_KERNEL), "-f", "{connection_file}"] if platform.emr
            else [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    spec_dir = BUILD / "kernels" / platform.kernel
    spec_dir.mkdir(parents=True, exist_ok=True)
    # This machine sets PYTHONDONTWRITEBYTECODE=1: without the bytecode written on first import,
    # every kernel and Spark worker would compile its imports (TensorFlow: 20 s) again.
    spec = {"argv": argv, "display_name": platform.title, "language": "python",
            "env": {"PYTHONDONTWRITEBYTECODE": ""}}
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build")
    build_cmd.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BY_NAME))
    sub.add_parser("list")
    lock_cmd = sub.add_parser("lock")
    lock_cmd.add_argument("names", nargs="+", metavar="NAME")
    args = parser.parse_args()
    unknown = [n for n in getattr(args, "names", []) if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown platform {unknown[0]!r}: choose from {', '.join(BY_NAME)}")
    chosen = [BY_NAME[n] for n in args.names] if getattr(args, "names", None) else list(PLATFORMS)
    if args.command == "lock":
        for platform in chosen:
            write_lock(platform)
        return 0
    if args.command == "list":
        for platform in chosen:
            print(f"{platform.name:34} Python {platform.python:5} {platform.notebooks:9} "
                  f"{status(platform) or 'kernel ready'}")
        return 0
    def build_one(platform: Platform) -> bool:
        try:
            build(platform)
        except InterpreterMissing as err:
            print(f"{platform.name}: not built: {err}", file=sys.stderr)
        except subprocess.CalledProcessError as err:
            print(f"{platform.name}: install failed ({err})", file=sys.stderr)
            return False
        return True

    from concurrent.futures import ThreadPoolExecutor

    try:
        check_free_space(chosen)
    except NotEnoughDisk as err:
        print(f"platform kernels: not built: {err}", file=sys.stderr)
        return 1
    started = time.time()
    with ThreadPoolExecutor(2) as pool:  # pip waits on the network as much as on a core
        built = list(pool.map(build_one, chosen))
    print(f"platform kernels: {time.time() - started:.0f} s")
    return 0 if all(built) else 1


if __name__ == "__main__":
    sys.exit(main())
