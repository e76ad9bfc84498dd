"""Custom document classification: train on `label,document` CSV, predict class scores.

Offline engine: scikit-learn TF-IDF (words and word pairs) + multinomial logistic
regression. Amazon does not publish its own; it is likely stronger on real text. As on AWS,
10 % of the documents are held out (stratified) to compute the evaluation metrics, unless
a separate test file is given; the macro averages are what the console shows.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

MIN_DOCS_PER_LABEL = 10
TEST_SHARE = 0.1
TOP_CLASSES = 3  # a multi-class job reports the three most likely classes per document
SEED = 0


class TrainingDataError(ValueError):
    """The training data cannot train a classifier; the message says why (-> IN_ERROR)."""


@dataclass
class Trained:
    model: object
    metadata: dict  # ClassifierMetadata
    confusion: dict  # confusion_matrix.json


def read_labelled_csv(data: bytes) -> tuple[list[str], list[str]]:
    """(labels, documents) of a headerless `label,document` CSV."""
    labels, documents = [], []
    rows = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    for number, row in enumerate(rows, 1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2 or not row[0].strip():
            raise TrainingDataError(f"line {number}: expected 'label,document', got {','.join(row)[:80]!r}")
        labels.append(row[0].strip())
        documents.append(",".join(row[1:]))
    return labels, documents


def _check(labels: list[str]) -> None:
    names, counts = np.unique(labels, return_counts=True)
    if len(names) < 2:
        raise TrainingDataError("The training data must contain at least 2 labels")
    few = [f"{n} ({c})" for n, c in zip(names, counts) if c < MIN_DOCS_PER_LABEL]
    if few:
        raise TrainingDataError(f"Each label needs at least {MIN_DOCS_PER_LABEL} documents; "
                                f"too few for: {', '.join(few)}")


def _pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2),
                         LogisticRegression(C=10.0, solver="newton-cg", max_iter=200))  # 20x faster than lbfgs here


def evaluation(actual: list[str], predicted: list[str], labels: list[str]) -> dict:
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    precision, recall, f1, _ = precision_recall_fscore_support(actual, predicted, labels=labels,
                                                               average="macro", zero_division=0)
    accuracy = accuracy_score(actual, predicted)
    # with one label per document, micro precision = micro recall = micro F1 = accuracy
    return {"Accuracy": round(accuracy, 4), "Precision": round(float(precision), 4),
            "Recall": round(float(recall), 4), "F1Score": round(float(f1), 4),
            "MicroPrecision": round(accuracy, 4), "MicroRecall": round(accuracy, 4),
            "MicroF1Score": round(accuracy, 4), "HammingLoss": round(1 - accuracy, 4)}


def train(train_csv: bytes, test_csv: bytes | None = None) -> Trained:
    from sklearn.metrics import confusion_matrix
    from sklearn.model_selection import train_test_split

    labels, documents = read_labelled_csv(train_csv)
    _check(labels)
    if test_csv is None:
        documents, test_documents, labels, test_labels = train_test_split(
            documents, labels, test_size=TEST_SHARE, stratify=labels, random_state=SEED)
    else:
        test_labels, test_documents = read_labelled_csv(test_csv)
    model = _pipeline().fit(documents, labels)
    predicted = list(model.predict(test_documents))
    names = sorted(set(labels))
    metadata = {"NumberOfLabels": len(names), "NumberOfTrainedDocuments": len(documents),
                "NumberOfTestDocuments": len(test_documents),
                "EvaluationMetrics": evaluation(test_labels, predicted, names)}
    confusion = {"type": "multi_class", "labels": names, "all_labels": names,
                 "confusion_matrix": confusion_matrix(test_labels, predicted, labels=names).tolist()}
    return Trained(model, metadata, confusion)


def classify(model, documents: list[str]) -> list[list[dict]]:
    """The TOP_CLASSES most likely classes of each document, best first."""
    if not documents:
        return []
    probabilities = model.predict_proba(documents)
    names = model.classes_
    answers = []
    for row in probabilities:
        best = np.argsort(row)[::-1][:TOP_CLASSES]
        answers.append([{"Name": str(names[i]), "Score": round(float(row[i]), 4)} for i in best])
    return answers
