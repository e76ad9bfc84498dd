"""Ad impressions in the schema of the Adform click-prediction data set (Shioji, 2017, Harvard
Dataverse doi:10.7910/DVN/TADBY7): one JSON object per line, arrays `c0`…`c9` of categorical
values hashed to signed 32-bit integers, and the click label `l`; a key is left out when the
feature has no value, and some features hold several values.

Synthetic. Each feature draws its values from a fixed vocabulary with a long-tailed (Zipf-like)
popularity, as ad traffic does: a few publishers, placements or devices carry most impressions.
Whether an impression is clicked is drawn from a logistic model: every value of every feature
shifts the click log-odds by its own amount, plus an interaction between `c1` and `c3` for
their popular values; about 18 % of impressions are clicks, as in the book's 12 million rows.
Popular values can be learned from data; the long tail cannot, so models land at believable
AUCs (about 0.65–0.70), not perfect ones. Vocabulary sizes of `c0`, `c1`, `c3`, `c4` match the
distinct counts the book reports for the real data (2497, 178, 68, 17572); the rest are ours.

    make(out)                          # the committed sample, data/samples/adform_clicks/
    lines(n, seed)                     # n JSON lines, deterministic per seed (any n: a chunk)
    write_json_lines(path, n, seed)    # a file of n rows, written in chunks
"""
from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np

SAMPLE_FILE = "adform.click.sample.json.gz"
SAMPLE_ROWS = 12_000
SAMPLE_SEED = 2017
CHUNK_ROWS = 50_000
WORLD_SEED = 7


@dataclass(frozen=True)
class Feature:
    name: str
    vocabulary: int          # distinct hashed values
    zipf: float              # popularity of the k-th value ∝ 1 / (k + 3) ** zipf
    effect: float            # spread (sd) of the values' shifts of the click log-odds
    missing: float = 0.0     # share of rows without the key
    max_values: int = 1      # more than 1: a multi-valued feature (1…max_values values)


FEATURES = (
    Feature("c0", 2497, 1.05, 0.45, missing=0.01),
    Feature("c1", 178, 1.3, 0.45),
    Feature("c2", 900, 1.1, 0.35, missing=0.02),
    Feature("c3", 68, 1.4, 0.40),
    Feature("c4", 17572, 0.9, 0.60, missing=0.01),
    Feature("c5", 40, 1.2, 0.20, missing=0.45),
    Feature("c6", 3000, 1.0, 0.20, missing=0.30, max_values=4),
    Feature("c7", 1200, 1.1, 0.10),
    Feature("c8", 800, 1.1, 0.10),
    Feature("c9", 500, 1.0, 0.15, max_values=3),
)
INTERACTION = ("c1", "c3", 12, 0.5)  # features, how many popular values of each, effect spread
INTERCEPT = -1.95                    # sets the click rate to about 18 %


def hashed(name: str, count: int) -> np.ndarray:
    """`count` distinct signed 32-bit integers that look like hashed categories."""
    values = [int.from_bytes(hashlib.blake2b(f"adform-{name}-{i}".encode(), digest_size=4).digest(),
                             "little", signed=True) for i in range(count)]
    return np.array(values, dtype=np.int64)


class World:
    """The fixed part: vocabularies, popularity and click effects of every value."""

    def __init__(self, seed: int = WORLD_SEED):
        rng = np.random.default_rng(seed)
        self.values, self.popularity, self.effects = {}, {}, {}
        for f in FEATURES:
            weights = 1.0 / (np.arange(f.vocabulary) + 3.0) ** f.zipf
            self.values[f.name] = hashed(f.name, f.vocabulary)
            self.popularity[f.name] = weights / weights.sum()
            self.effects[f.name] = rng.normal(0.0, f.effect, f.vocabulary)
        a, b, top, spread = INTERACTION
        self.interaction = rng.normal(0.0, spread, (top, top))

    def rows(self, n: int, rng: np.random.Generator) -> tuple[dict, np.ndarray, np.ndarray]:
        """n impressions: per feature (value indices, values per row), click log-odds, labels."""
        logit = np.full(n, INTERCEPT)
        drawn = {}
        for f in FEATURES:
            counts = rng.integers(1, f.max_values + 1, n) if f.max_values > 1 else np.ones(n, dtype=int)
            counts[rng.random(n) < f.missing] = 0
            index = rng.choice(f.vocabulary, size=int(counts.sum()), p=self.popularity[f.name])
            row = np.repeat(np.arange(n), counts)
            effect = np.bincount(row, weights=self.effects[f.name][index], minlength=n)
            logit += effect / np.maximum(counts, 1)  # a multi-valued feature: the mean shift
            drawn[f.name] = (index, counts)
        a, b, top, _ = INTERACTION
        first_a, first_b = (self._first(*drawn[a]), self._first(*drawn[b]))
        popular = (first_a >= 0) & (first_a < top) & (first_b >= 0) & (first_b < top)
        logit[popular] += self.interaction[first_a[popular], first_b[popular]]
        clicked = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
        return drawn, logit, clicked

    @staticmethod
    def _first(index: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Index of each row's first value, -1 where the row has none."""
        first = np.full(len(counts), -1)
        has = counts > 0
        first[has] = index[(np.cumsum(counts) - counts)[has]]
        return first


@lru_cache(maxsize=1)
def world() -> World:
    return World()


def lines(n: int, seed: int) -> Iterator[str]:
    """n impressions as JSON lines (keys c0…c9 when present, then l); same seed, same lines."""
    w = world()
    drawn, _, clicked = w.rows(n, np.random.default_rng(seed))
    columns = []
    for f in FEATURES:
        index, counts = drawn[f.name]
        values = w.values[f.name][index].tolist()
        cuts = np.cumsum(counts).tolist()
        columns.append([values[end - k:end] for k, end in zip(counts.tolist(), cuts)])
    names = [f.name for f in FEATURES]
    for i, label in enumerate(clicked.tolist()):
        record = {name: column[i] for name, column in zip(names, columns) if column[i]}
        record["l"] = label
        yield json.dumps(record, separators=(",", ":"))


def write_json_lines(path: Path, n: int, seed: int, chunk_rows: int = CHUNK_ROWS) -> Path:
    """n rows to `path` (gzip if it ends in .gz), generated and written chunk by chunk."""
    with open(path, "wb") as raw:
        # mtime=0 and no file name in the gzip header: the same rows give the same bytes
        out = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if path.suffix == ".gz" else raw
        with out:
            for number, start in enumerate(range(0, n, chunk_rows)):
                size = min(chunk_rows, n - start)
                out.write(("\n".join(lines(size, seed * 100_003 + number)) + "\n").encode())
    return path


def make(out: Path) -> list[Path]:
    return [write_json_lines(out / SAMPLE_FILE, SAMPLE_ROWS, SAMPLE_SEED)]
