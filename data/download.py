"""Fetch the full public data sets the book uses, verify them and prepare them for the notebooks.

    python data/download.py --list
    python data/download.py mnist newsgroups [--dest data/full]

Downloads resume where they stopped (HTTP Range) and show a progress bar. Each is checked
against its published sha256 where one exists (scikit-learn and Keras publish theirs);
for the others the first download's sha256 is recorded next to the file and later
downloads must match it (trust on first use — said on screen). A preparation step then
writes the files the notebooks read, in the samples' formats, under data/full/<name>/;
point a notebook's data parameter there (or upload them to S3 and use the s3:// path).
Data sets behind a login (Kaggle) or on pages without stable links print the manual steps.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
import tarfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

FULL = Path(__file__).resolve().parent / "full"
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    filename: str = ""
    url: str | None = None  # None: behind a login or without a stable link; follow `manual`
    sha256: str | None = None  # None: none is published; trust on first use
    size: int | None = None
    manual: str | None = None
    prepare: Callable[[Path, Path], list[Path]] | None = None  # (download, folder) -> files written


class DownloadError(RuntimeError):
    pass


# ---------------------------------------------------------------- preparation steps
def mnist_to_kaggle_csv(archive: Path, folder: Path) -> list[Path]:
    """Keras's mnist.npz -> train.csv in Kaggle's digit-recognizer schema (label,pixel0..pixel783)."""
    import numpy as np

    target = folder / "train.csv"
    with np.load(archive) as data, target.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["label"] + [f"pixel{i}" for i in range(784)])
        for images, labels in ((data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])):
            for image, label in zip(images, labels):
                writer.writerow([int(label)] + image.reshape(-1).tolist())
    return [target]


def newsgroups_to_csv(archive: Path, folder: Path) -> list[Path]:
    """20news-bydate.tar.gz -> newsgroups.csv with `label,document` rows (Comprehend's format)."""
    target = folder / "newsgroups.csv"
    with tarfile.open(archive) as tar, target.open("w", newline="") as out:
        writer = csv.writer(out)
        for member in tar:
            parts = member.name.split("/")
            if member.isfile() and len(parts) >= 3:
                text = tar.extractfile(member).read().decode("latin-1")
                writer.writerow([parts[-2], " ".join(text.split())])
    return [target]


def online_retail_to_csv(archive: Path, folder: Path) -> list[Path]:
    """UCI's Online Retail.xlsx -> data.csv with the columns the book's Kaggle copy has."""
    import pandas as pd

    with zipfile.ZipFile(archive) as bundle:
        name = next(n for n in bundle.namelist() if n.lower().endswith(".xlsx"))
        frame = pd.read_excel(io.BytesIO(bundle.read(name)), dtype={"InvoiceNo": str, "StockCode": str})
    target = folder / "data.csv"
    frame.to_csv(target, index=False, date_format="%m/%d/%Y %H:%M")
    return [target]


def unpack(archive: Path, folder: Path) -> list[Path]:
    """Extract a .zip/.tar(.gz) next to it (Spark reads the extracted .json.gz files as they are)."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(folder)
    else:
        with tarfile.open(archive) as tar:
            tar.extractall(folder, filter="data")
    return sorted(p for p in folder.rglob("*") if p.is_file() and p != archive and not p.name.endswith(".sha256"))


DATASETS = {d.name: d for d in [
    Dataset("tweets", "@TheDemocrats and @GOP timelines as dem.txt / gop.txt, one tweet per line (chapter 2)",
            manual="Twitter's API now needs a paid tier and its terms forbid redistributing tweets, so "
                   "there is no file to download: collect your own with "
                   "chapter02_naive_bayes/0_collect_tweets_twython.ipynb (set TWITTER_APP_KEY and "
                   "TWITTER_APP_SECRET, and OUT_DIR=../data/full/tweets), or use the files of the book's code "
                   "repository (github.com/PacktPublishing/Mastering-Machine-Learning-on-AWS) if it "
                   "carries them."),
    Dataset("housing", "Boston house prices, Kaggle boston-housing train.csv (chapters 3, 8, 14, 16)",
            filename="train.csv",
            manual="Kaggle needs a login: accept the rules at https://www.kaggle.com/c/boston-housing, "
                   "then `kaggle competitions download -c boston-housing` and unzip train.csv into "
                   "data/full/housing/. The committed sample data/samples/housing/train.csv already "
                   "holds all 506 tracts of the original data (Kaggle's train.csv is 333 of them)."),
    Dataset("adform", "Adform click prediction, Harvard Dataverse doi:10.7910/DVN/TADBY7: five "
            "adform.click.2017.0N.json.gz files of JSON lines (chapters 4, 14)",
            filename="TADBY7.zip",
            url="https://dataverse.harvard.edu/api/access/dataset/:persistentId/?persistentId=doi:10.7910/DVN/TADBY7",
            prepare=unpack),
    Dataset("online_retail", "UCI Online Retail (the book's Kaggle customer-segmentation data.csv), chapter 5",
            filename="online_retail.zip", url="https://archive.ics.uci.edu/static/public/352/online+retail.zip",
            prepare=online_retail_to_csv),
    Dataset("theme_park", "Theme park attraction visits (Lim et al., SIGIR 2017), chapter 6",
            manual="Download poiList-sigir17 and userVisits-sigir17 from Kwan Hui Lim's page "
                   "https://sites.google.com/site/limkwanhui/datacode (no stable file link) and unzip "
                   "both folders into data/full/theme_park/."),
    Dataset("mnist", "MNIST handwritten digits (Keras's copy), as Kaggle's digit-recognizer train.csv, chapter 8",
            filename="mnist.npz", url="https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
            sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1", size=11490434,
            prepare=mnist_to_kaggle_csv),
    Dataset("caltech256", "Caltech-256 object categories (class folders), chapter 9",
            filename="256_ObjectCategories.tar",
            url="https://data.caltech.edu/records/nyy15-4j048/files/256_ObjectCategories.tar?download=1",
            prepare=unpack),
    Dataset("newsgroups", "20 Newsgroups (bydate split, scikit-learn's copy) as label,document CSV, chapter 10",
            filename="20news-bydate.tar.gz", url="https://ndownloader.figshare.com/files/5975967",
            sha256="8f1b2514ca22a5ade8fbb9cfa5727df95fa587f4c87b786e15c759fa66d95610", size=14464277,
            prepare=newsgroups_to_csv),
]}


# ---------------------------------------------------------------- downloading
def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _progress(total: int | None, initial: int, name: str):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, desc=name, file=sys.stderr)


def _expected_sha256(dataset: Dataset, target: Path) -> tuple[str | None, Path]:
    recorded = target.with_name(target.name + ".sha256")
    if dataset.sha256:
        return dataset.sha256, recorded
    return (recorded.read_text().split()[0] if recorded.exists() else None), recorded


def fetch(dataset: Dataset, dest: Path = FULL) -> Path:
    """Download (or resume) one data set's file; return its path once its checksum matches."""
    if dataset.url is None:
        raise DownloadError(f"{dataset.name}: cannot be downloaded automatically.\n  {dataset.manual}")
    target = dest / dataset.name / dataset.filename
    expected, recorded = _expected_sha256(dataset, target)
    if target.exists() and expected and sha256_of(target) == expected:
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
        if not (err.code == 416 and have):  # 416 with a partial file: nothing left to fetch
            raise DownloadError(f"{dataset.name}: {dataset.url} answered HTTP {err.code}") from None
    except (urllib.error.URLError, OSError) as err:
        raise DownloadError(f"{dataset.name}: cannot reach {dataset.url} ({err}). Check your network; "
                            "rerunning resumes where it stopped.") from None
    actual = sha256_of(partial)
    if expected and actual != expected:
        partial.unlink()
        raise DownloadError(f"{dataset.name}: checksum mismatch (expected {expected}, got {actual}); "
                            "the partial file was removed, rerun to fetch it again")
    if not expected:
        recorded.write_text(f"{actual}  {dataset.filename}\n")
        print(f"{dataset.name}: no published checksum; recorded sha256 {actual} in {recorded.name} "
              "(later downloads must match it)", file=sys.stderr)
    partial.replace(target)
    return target


def download(dataset: Dataset, dest: Path = FULL) -> list[Path]:
    """Fetch, verify and prepare one data set; return the files the notebooks read."""
    archive = fetch(dataset, dest)
    return dataset.prepare(archive, archive.parent) if dataset.prepare else [archive]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="data sets to fetch (see --list)")
    parser.add_argument("--list", action="store_true", help="list the data sets")
    parser.add_argument("--dest", type=Path, default=FULL)
    args = parser.parse_args()
    if args.list or not args.names:
        for d in DATASETS.values():
            how = "manual" if d.url is None else f"{d.size / 1e6:.0f} MB" if d.size else "size unknown"
            check = "sha256 published" if d.sha256 else "trust on first use" if d.url else ""
            print(f"{d.name:14} {how:13} {check:19} {d.description}")
        return 0
    failed = 0
    for name in args.names:
        if name not in DATASETS:
            print(f"unknown data set {name!r}; see --list", file=sys.stderr)
            return 2
        try:
            for path in download(DATASETS[name], args.dest):
                print(f"{name}: {path}")
        except DownloadError as err:
            print(err, file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
