"""Newsgroup-style posts in the CSV format Comprehend's custom classifier trains on.

Synthetic: six topics named after 20 Newsgroups groups, each post a bag of short sentences
drawn from a general Usenet vocabulary, the topic's own words and some words of other
topics. The two `comp.*` groups also share a computing vocabulary. Files have no header, one `label,document` per line
(the order Comprehend expects); `test.csv` keeps its labels so the notebooks can score
predictions, and the Comprehend notebook strips them before the classification job.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 20
TRAIN_PER_TOPIC = 300
TEST_PER_TOPIC = 50

GENERAL = """anyone know think thanks post reply question read article wrote said would could
really good problem people time year week help find need want seems last first new old
someone something nothing everything sure right wrong point mean maybe probably actually
little lot work works working try tried look looking idea ideas information email list""".split()

COMPUTING = """computer software program version file files disk memory drive card screen
system windows driver drivers install installed upgrade machine ram megabytes bus port""".split()

TOPICS = {
    "comp.graphics": """image images graphics polygon rendering render pixel pixels bitmap jpeg gif
        tiff format formats viewer color colors palette texture raytracing shading algorithm 3d
        animation vga resolution sphere vertex vertices library opengl conversion""".split() + COMPUTING,
    "comp.sys.mac.hardware": """mac macintosh apple quadra powerbook centris lc iisi iici simm simms
        scsi monitor adb nubus powerpc motherboard fpu clock chip modem keyboard mouse
        floppy duo performa battery""".split() + COMPUTING,
    "rec.autos": """car cars engine engines dealer dealers mileage mph brake brakes tire tires
        transmission sedan ford toyota honda v6 v8 gas fuel wheel wheels oil clutch highway
        speed insurance convertible""".split(),
    "rec.sport.hockey": """hockey team teams game games season playoff playoffs nhl goal goals
        goalie puck ice penalty player players coach league cup stanley rangers bruins
        leafs wings score period shot""".split(),
    "sci.med": """doctor doctors patient patients disease diseases medical medicine treatment
        symptoms pain drug drugs infection diet cancer blood clinical study studies therapy
        vitamin diagnosis physician health allergy surgery""".split(),
    "sci.space": """space orbit orbital nasa shuttle launch launches moon lunar mars satellite
        satellites rocket rockets mission missions spacecraft astronaut astronauts earth solar
        station probe planet payload telescope gravity""".split(),
}


def _sentence(rng: np.random.Generator, own: list[str], others: list[list[str]], topic_share: float) -> str:
    words = []
    for _ in range(rng.integers(6, 14)):
        draw = rng.random()
        if draw < topic_share:
            words.append(own[rng.integers(len(own))])
        elif draw < topic_share + 0.12:
            other = others[rng.integers(len(others))]
            words.append(other[rng.integers(len(other))])
        else:
            words.append(GENERAL[rng.integers(len(GENERAL))])
    return " ".join(words).capitalize() + "."


def _post(rng: np.random.Generator, topic: str) -> str:
    own = TOPICS[topic]
    others = [words for name, words in TOPICS.items() if name != topic]
    topic_share = rng.beta(2.5, 7.0)  # some posts say little about their topic
    return " ".join(_sentence(rng, own, others, topic_share) for _ in range(rng.integers(2, 6)))


def _rows(rng: np.random.Generator, per_topic: int) -> list[tuple[str, str]]:
    rows = [(topic, _post(rng, topic)) for topic in TOPICS for _ in range(per_topic)]
    return [rows[i] for i in rng.permutation(len(rows))]


def _write(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return path


def make(out: Path) -> list[Path]:
    rng = np.random.default_rng(SEED)
    train, test = _rows(rng, TRAIN_PER_TOPIC), _rows(rng, TEST_PER_TOPIC)
    return [_write(out / "train.csv", train), _write(out / "test.csv", test)]
