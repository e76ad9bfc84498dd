"""The pip install behind the offline EMR kernel's `sc.install_pypi_package`, with its results kept.

    <emr-7 python> tools/emr_install.py SESSION_PYTHON PACKAGE [INDEX_URL]

On EMR every notebook session installs its notebook-scoped libraries again, with pip, from
PyPI; offline, `make test` does the same dozens of times (the same pins in the same order, on
the same cluster), and pip's unpacking and compiling of tensorflow-cpu alone takes half a
minute. So the result of each install is kept: the session's site-packages after pip installed
PACKAGE into a session that held exactly the same distributions, on a cluster with exactly the
same ones. An identical install later is a hard-linked copy of that result, as pip would have
left it (its console scripts are rewritten for the new session). Only successful installs are
kept; a failing one runs pip every time and shows pip's error.

Entries expire after a day (TTL_SECONDS), so pip is asked again what it would install today
(unpinned dependencies move); `EMR_INSTALL_CACHE=off` turns the cache off, and
`EMR_INSTALL_CACHE=DIR` moves it from ~/.cache/mastering-ml-aws/emr-notebook-scoped. Runs
on the cluster's Python 3.9.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

TTL_SECONDS = 24 * 3600
CLUSTER_LINK = "cluster-libraries.pth"  # the session's own view of the cluster (tools/emr_kernel.py)
VENV_SCRIPTS = ("python", "activate", "Activate.ps1")  # what `venv --without-pip` puts in bin/


def cache_root():
    setting = os.environ.get("EMR_INSTALL_CACHE", "")
    if setting.lower() == "off":
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mastering-ml-aws" / "emr-notebook-scoped"


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3.*")) / "site-packages"


def distributions(folder: Path) -> list:
    return sorted(p.name for p in folder.glob("*.dist-info"))


def cluster_site() -> Path:
    return next(Path(p) for p in sys.path if p.endswith("site-packages") and p.startswith(sys.prefix))


def key(session_site: Path, package: str, index_url: str) -> str:
    """What pip's answer depends on: the interpreter, the cluster's and the session's
    distributions, the request and pip itself."""
    import pip

    facts = {"python": sys.version, "pip": pip.__version__, "cluster": distributions(cluster_site()),
             "session": distributions(session_site), "package": package, "index_url": index_url}
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:32]


def fresh(entry: Path) -> bool:
    meta = entry / "meta.json"
    return meta.exists() and time.time() - json.loads(meta.read_text())["created"] < TTL_SECONDS


def link_tree(source: Path, target: Path) -> None:
    """source's contents into target as hard links (a copy where links are refused)."""
    target.mkdir(parents=True, exist_ok=True)
    if shutil.which("cp") and sys.platform.startswith("linux"):
        if subprocess.run(["cp", "-al", f"{source}/.", str(target)]).returncode == 0:
            return
    shutil.copytree(source, target, copy_function=_link_or_copy, dirs_exist_ok=True)


def _link_or_copy(source, target):
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def own_scripts(venv: Path) -> list:
    return [p for p in (venv / "bin").iterdir()
            if p.is_file() and not p.is_symlink() and not p.name.startswith(VENV_SCRIPTS)]


def store(venv: Path, entry: Path) -> None:
    """Keep this session's site-packages (without its cluster link) and console scripts."""
    staging = entry.with_name(f".{entry.name}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    link_tree(site_packages(venv), staging / "site-packages")
    (staging / "site-packages" / CLUSTER_LINK).unlink()
    (staging / "bin").mkdir()
    for script in own_scripts(venv):
        shutil.copy2(script, staging / "bin" / script.name)
    (staging / "meta.json").write_text(json.dumps({"created": time.time(), "venv": str(venv)}))
    shutil.rmtree(entry, ignore_errors=True)  # an expired one
    try:
        staging.rename(entry)
    except OSError:  # another session stored the same install first
        shutil.rmtree(staging, ignore_errors=True)


def restore(entry: Path, venv: Path) -> None:
    """Make this session's site-packages what pip left in the stored one."""
    site = site_packages(venv)
    for child in site.iterdir():
        if child.name != CLUSTER_LINK:
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    link_tree(entry / "site-packages", site)
    stored_venv = json.loads((entry / "meta.json").read_text())["venv"]
    for script in (entry / "bin").iterdir():
        target = venv / "bin" / script.name
        target.write_bytes(script.read_bytes().replace(stored_venv.encode(), str(venv).encode()))
        target.chmod(0o755)


def prune(root: Path) -> None:
    for entry in root.iterdir():
        try:
            created = json.loads((entry / "meta.json").read_text())["created"]
        except (OSError, ValueError, KeyError):
            created = entry.stat().st_mtime  # a staging folder a killed session left
        if time.time() - created > TTL_SECONDS:
            shutil.rmtree(entry, ignore_errors=True)


def pip_install(python: str, package: str, index_url: str) -> int:
    # pip compiles the bytecode at install time: on import, with PYTHONDONTWRITEBYTECODE=1,
    # the driver and every Spark worker would compile TensorFlow's sources again
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", python,
               "install", "-q", package, *(["--index-url", index_url] if index_url else [])]
    return subprocess.run(command).returncode


def main(python: str, package: str, index_url: str = "") -> int:
    venv = Path(python).parent.parent
    root = cache_root()
    if root is None:
        return pip_install(python, package, index_url)
    entry = root / key(site_packages(venv), package, index_url)
    if fresh(entry):
        try:
            restore(entry, venv)
            return 0
        except OSError as err:  # pruned meanwhile, or the disk refused: pip decides
            print(f"install cache not used ({err}); pip installs {package}", file=sys.stderr)
    status = pip_install(python, package, index_url)
    if status == 0:
        root.mkdir(parents=True, exist_ok=True)
        prune(root)
        store(venv, entry)
    return status


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
