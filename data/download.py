"""Fetch the full public data sets the book uses, with checksums and a progress bar.

    python data/download.py --list
    python data/download.py housing [--dest data/full]

Downloads resume where they stopped (HTTP Range), are checked against their sha256, and
land in data/full/<name>/. Data sets behind a login (Kaggle) print the manual steps
instead. Each notebook takes the downloaded path through its parameters cell.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

FULL = Path(__file__).resolve().parent / "full"
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    filename: str = ""
    url: str | None = None  # None: the data sits behind a login; follow `manual`
    sha256: str | None = None
    size: int | None = None
    manual: str | None = None


DATASETS = {d.name: d for d in [
    Dataset(
        "housing", "Boston house prices, Kaggle boston-housing train.csv (chapters 3, 8, 14, 16)",
        filename="train.csv",
        manual="Kaggle needs a login: accept the rules at https://www.kaggle.com/c/boston-housing, "
               "then `kaggle competitions download -c boston-housing` and unzip train.csv into "
               "data/full/housing/. The committed sample data/samples/housing/train.csv already "
               "holds all 506 tracts of the original data (Kaggle's train.csv is 333 of them)."),
]}


class DownloadError(RuntimeError):
    pass


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _progress(total: int | None, initial: int, name: str):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, desc=name, file=sys.stderr)


def download(dataset: Dataset, dest: Path = FULL) -> Path:
    """Download (or resume) one data set; return its path once its checksum matches."""
    target = dest / dataset.name / dataset.filename
    if dataset.url is None:
        raise DownloadError(f"{dataset.name}: cannot be downloaded automatically.\n  {dataset.manual}")
    if target.exists() and (dataset.sha256 is None or sha256_of(target) == dataset.sha256):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    have = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(dataset.url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            resumed = response.status == 206
            if not resumed:
                have = 0  # the server ignored Range: start over
            length = response.headers.get("Content-Length")
            total = have + int(length) if length else dataset.size
            with partial.open("ab" if resumed else "wb") as out, _progress(total, have, dataset.name) as bar:
                for block in iter(lambda: response.read(CHUNK), b""):
                    out.write(block)
                    bar.update(len(block))
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # nothing left to fetch
            pass
        else:
            raise DownloadError(f"{dataset.name}: {dataset.url} answered HTTP {err.code}") from None
    except (urllib.error.URLError, OSError) as err:
        raise DownloadError(f"{dataset.name}: cannot reach {dataset.url} ({err}). Check your network; "
                            "rerunning resumes where it stopped.") from None
    if dataset.sha256:
        actual = sha256_of(partial)
        if actual != dataset.sha256:
            partial.unlink()
            raise DownloadError(f"{dataset.name}: checksum mismatch (expected {dataset.sha256}, "
                                f"got {actual}); the partial file was removed, rerun to fetch it again")
    partial.replace(target)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="data sets to fetch (see --list)")
    parser.add_argument("--list", action="store_true", help="list the data sets")
    parser.add_argument("--dest", type=Path, default=FULL)
    args = parser.parse_args()
    if args.list or not args.names:
        for d in DATASETS.values():
            how = "manual (login)" if d.url is None else f"{d.size or '?'} bytes"
            print(f"{d.name:12} {how:16} {d.description}")
        return 0
    failed = 0
    for name in args.names:
        if name not in DATASETS:
            print(f"unknown data set {name!r}; see --list", file=sys.stderr)
            return 2
        try:
            print(f"{name}: {download(DATASETS[name], args.dest)}")
        except DownloadError as err:
            print(err, file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
