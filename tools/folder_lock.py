"""One notebook run at a time in a chapter's folder.

Notebooks keep scratch files in `work/` under their own folder (the split CSVs they upload,
a model they export). `make test` runs a chapter's notebooks under nbval on one worker and
the same notebooks in the platform kernels on others, all in this checkout: two runs of
chapter 14 rewrote `work/train.csv` while the other uploaded it, and the upload's checksum
no longer matched its body (`FlexibleChecksumError` in the training job, seen once in a
clean-clone run). Every run that executes in a notebook's folder holds that folder's lock;
EMR runs execute in a scratch directory of their own and need none.

Each process holds at most one lock at a time, so runs wait for each other but never in a
cycle.
"""
from __future__ import annotations

import contextlib
import fcntl
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "build" / "locks"


class FolderLock:
    """The lock of one folder at a time: `hold(folder)` releases the previous one first."""

    def __init__(self):
        self.folder: Path | None = None
        self._file = None

    def hold(self, folder: Path | None) -> None:
        if folder == self.folder:
            return
        self.release()
        if folder is None:
            return
        LOCKS.mkdir(parents=True, exist_ok=True)
        self._file = open(LOCKS / f"{folder.resolve().name}.lock", "w")
        fcntl.flock(self._file, fcntl.LOCK_EX)  # waits while another run works in the folder
        self.folder = folder

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
        self._file, self.folder = None, None


@contextlib.contextmanager
def working_in(folder: Path | None):
    """Hold `folder`'s lock for the block (None: no lock)."""
    lock = FolderLock()
    lock.hold(folder)
    try:
        yield
    finally:
        lock.release()
