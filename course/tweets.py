"""Chapter 2's tweet files, read the same way by the scikit-learn and the BlazingText notebooks
(chapter 3's Spark notebook reads them with Spark, on the cluster, without this package)."""
from __future__ import annotations

from pathlib import Path

HOW_TO_GET = ("run `python data/make_samples.py tweets`, or collect tweets with notebook 0 "
              "(chapter02_naive_bayes/0_collect_tweets_twython.ipynb) and set TWEETS_DIR to its OUT_DIR")


def read_lines(path) -> list[str]:
    """The non-blank lines of a UTF-8 text file (one tweet or one stop word per line), each with
    its runs of whitespace collapsed to one space."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: {HOW_TO_GET}")
    return [" ".join(line.split()) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
