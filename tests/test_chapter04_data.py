"""The synthetic Adform click sample: the real schema, the book's click rate, learnable but
imperfect signal, and chunked generation that is deterministic per seed."""
from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "data" / "generators"))

import adform_clicks  # noqa: E402  (data/generators/adform_clicks.py)

SAMPLE = ROOT / "data" / "samples" / "adform_clicks" / adform_clicks.SAMPLE_FILE
KEYS = {f"c{i}" for i in range(10)}


@pytest.fixture(scope="module")
def sample() -> list[dict]:
    with gzip.open(SAMPLE, "rt") as f:
        return [json.loads(line) for line in f]


def test_sample_has_the_adform_schema(sample):
    assert len(sample) == adform_clicks.SAMPLE_ROWS
    for record in sample:
        assert record["l"] in (0, 1) and set(record) - {"l"} <= KEYS
        for key, values in record.items():
            if key != "l":
                assert values and all(isinstance(v, int) and -2**31 <= v < 2**31 for v in values)
    assert any(len(r.get("c6", [])) > 1 for r in sample), "a multi-valued feature"
    assert any("c5" not in r for r in sample), "a feature missing from some rows"


def test_click_rate_and_cardinalities_are_the_books(sample):
    assert 0.16 <= np.mean([r["l"] for r in sample]) <= 0.20
    distinct = {k: len({r[k][0] for r in sample if k in r}) for k in ("c1", "c3", "c4")}
    assert distinct["c1"] == 178 and distinct["c3"] == 68 and distinct["c4"] > 1000  # the generator's vocabularies, all used


def test_signal_is_learnable_but_not_perfect(sample):
    from sklearn.metrics import roc_auc_score

    _, logit, clicked = adform_clicks.world().rows(50_000, np.random.default_rng(0))
    assert 0.70 < roc_auc_score(clicked, logit) < 0.85  # the best any model could do
    train, test = sample[:9000], sample[9000:]
    rate = {}  # click rate per c3 value, learned on the first rows only
    for r in train:
        rate.setdefault(r["c3"][0], []).append(r["l"])
    prior = np.mean([r["l"] for r in train])
    scores = [np.mean(rate.get(r["c3"][0], [prior])) for r in test]
    assert roc_auc_score([r["l"] for r in test], scores) > 0.55


def test_lines_are_deterministic_per_seed_and_chunks_add_up(tmp_path):
    assert list(adform_clicks.lines(50, seed=3)) == list(adform_clicks.lines(50, seed=3))
    assert list(adform_clicks.lines(50, seed=3)) != list(adform_clicks.lines(50, seed=4))
    path = adform_clicks.write_json_lines(tmp_path / "part.json", 2_500, seed=1, chunk_rows=1_000)
    lines = path.read_text().splitlines()
    assert len(lines) == 2_500 and len(set(lines[:1_000]) & set(lines[1_000:2_000])) < 50
