"""BlazingText, computed by fastText itself (the `fasttext-numpy2` wheel on PyPI).

AWS's BlazingText is fastText with GPU kernels, and its `model.bin` is a fastText binary
("can be cross-consumed by fastText", say AWS's docs). So offline we train with the
fastText library: a prebuilt wheel for Python 3.11 that installs cleanly next to numpy 2
and trains in well under a second on the samples. (The original `fasttext` package has
no wheels and needs a compiler; a numpy re-implementation would only approximate it.)

supervised mode: `__label__X text` lines in the `train` and optional `validation`
channels (content type text/plain or none); averaged word (+ hashed word n-gram)
embeddings and a softmax, trained single-threaded with a fixed seed so runs repeat.
Metrics `train:accuracy` and `validation:accuracy`. `early_stopping` retrains for each
epoch count from `min_epochs` on (fastText's learning-rate schedule depends on the total
number of epochs) and keeps the best on validation, stopping after `patience` epochs
without improvement — slower than AWS's single pass, same choice of model.

Word2Vec modes (`skipgram`, `cbow`, `batch_skipgram`) are not emulated: the job fails
with a ClientError saying so (fastText's unsupervised trainer diverges on corpora as small
as our samples), and their hyperparameters are refused in supervised mode, as on AWS.

Inference as AWS documents it: application/json `{"instances": [...], "configuration":
{"k": N}}` -> `[{"label": ["__label__…"], "prob": [...]}, ...]`; application/jsonlines
`{"source": "...", "k": N}` lines (what batch transform sends) -> one answer per line. The
answer has the request's content type (BlazingText ignores a different Accept).
"""
from __future__ import annotations

import json
from pathlib import Path

from .base import Channel, ClientError, Hyperparameter as H, Log, media_type, check_stop

REPOSITORIES = ("blazingtext",)
SUPERVISED = "supervised"
WORD2VEC = ("skipgram", "cbow", "batch_skipgram")
HYPERPARAMETERS = {
    "mode": H(str, choices={SUPERVISED, *WORD2VEC}),
    "epochs": H(int, 5, low=1),
    "learning_rate": H(float, 0.05, low=0),
    "min_count": H(int, 5, low=0),
    "vector_dim": H(int, 100, low=1),
    "buckets": H(int, 2_000_000, low=1),
    # supervised
    "word_ngrams": H(int, 2, low=1),
    "early_stopping": H(bool, False),
    "patience": H(int, 4, low=1),
    "min_epochs": H(int, 5, low=1),
}
HINTS = {name: "it is a Word2Vec hyperparameter; supervised mode does not take it" for name in (
    "window_size", "negative_samples", "sampling_threshold", "subwords", "min_char", "max_char",
    "batch_size", "evaluation")}
MODEL_FILE = "model.bin"
TEXT, JSON, JSONLINES = "text/plain", "application/json", "application/jsonlines"
SEED = 0


# ---------------------------------------------------------------- training
def train(channels: dict[str, Channel], hp: dict, model_dir: Path, log: Log, context=None) -> dict[str, float]:
    if hp["mode"] != SUPERVISED:
        raise ClientError(f"localaws emulates BlazingText's supervised mode only, not {hp['mode']!r} "
                          "(Word2Vec): run this job on AWS")
    if "train" not in channels:
        raise ClientError("BlazingText needs a 'train' channel")
    unknown = sorted(set(channels) - {"train", "validation"})
    if unknown:
        raise ClientError(f"BlazingText takes the channels 'train' and 'validation', not {unknown}")
    scratch = model_dir.parent / "blazingtext-input"
    scratch.mkdir(parents=True, exist_ok=True)
    files = {name: _one_file(channel, scratch / f"{name}.txt") for name, channel in channels.items()}
    model_dir.mkdir(parents=True, exist_ok=True)
    return _train_supervised(files, hp, model_dir, log, context)


def _one_file(channel: Channel, target: Path) -> Path:
    """BlazingText reads one text file per channel: concatenate the channel's files."""
    kind = media_type(channel.content_type, TEXT)
    if kind != TEXT:
        raise ClientError(f"channel '{channel.name}' has content type {channel.content_type!r}; BlazingText "
                          "reads text/plain files (one sentence per line)")
    with target.open("wb") as out:
        for path in channel.data_files():
            data = path.read_bytes()
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                raise ClientError(f"{path.name} in channel '{channel.name}' is not UTF-8 text") from None
            out.write(data if data.endswith(b"\n") or not data else data + b"\n")
    return target


def _labelled_lines(path: Path, channel: str) -> int:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        raise ClientError(f"channel '{channel}' has no sentences")
    unlabelled = sum("__label__" not in line for line in lines)
    if unlabelled:
        raise ClientError(f"{unlabelled} line(s) of channel '{channel}' have no __label__ prefix; supervised "
                          "mode expects lines such as '__label__1 some text'")
    return len(lines)


def _accuracy(model, path: Path) -> float:
    """Share of lines whose top prediction is one of their labels (precision@1)."""
    count, precision, _ = model.test(str(path), k=1)
    return float(precision) if count else 0.0


def _train_supervised(files: dict[str, Path], hp: dict, model_dir: Path, log: Log, context=None) -> dict[str, float]:
    import fasttext

    for name, path in files.items():
        log(f"[{name}] {_labelled_lines(path, name)} sentences")

    def fit(epochs: int):
        return fasttext.train_supervised(
            str(files["train"]), epoch=epochs, lr=hp["learning_rate"], dim=hp["vector_dim"],
            minCount=max(hp["min_count"], 1), wordNgrams=hp["word_ngrams"], bucket=hp["buckets"],
            thread=1, seed=SEED, verbose=0)

    validation = files.get("validation")
    if hp["early_stopping"] and validation is not None:
        best, best_accuracy, stale = None, -1.0, 0
        for epochs in range(min(hp["min_epochs"], hp["epochs"]), hp["epochs"] + 1):
            check_stop(context)
            candidate = fit(epochs)
            accuracy = _accuracy(candidate, validation)
            log(f"epoch {epochs}: validation accuracy {accuracy:.4f}")
            if accuracy > best_accuracy:
                best, best_accuracy, stale = candidate, accuracy, 0
            else:
                stale += 1
                if stale >= hp["patience"]:
                    log(f"early stopping: no improvement for {stale} epochs, keeping the best model")
                    break
        model = best
    else:
        if hp["early_stopping"]:
            log("early_stopping needs a 'validation' channel: training all epochs")
        model = fit(hp["epochs"])
    words, labels = model.get_words(), model.get_labels()
    log(f"vocabulary: {len(words)} words (min_count={hp['min_count']}), labels: {labels}")
    model.save_model(str(model_dir / MODEL_FILE))
    metrics = {"train:accuracy": _accuracy(model, files["train"])}
    if validation is not None:
        metrics["validation:accuracy"] = _accuracy(model, validation)
    for name, value in metrics.items():
        log(f"#{name.replace(':', '_')}: {value:.4f}")
    return metrics


# ---------------------------------------------------------------- serving
class BlazingTextModel:
    default_accept = JSON

    def __init__(self, model):
        self.model = model

    def predict(self, body: bytes, content_type: str | None, accept: str | None) -> tuple[bytes, str]:
        kind = media_type(content_type, JSON)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ClientError("the request is not UTF-8 text") from None
        if kind == JSON:
            request = _json(text)
            if not isinstance(request, dict) or not isinstance(request.get("instances"), list):
                raise ClientError('expected {"instances": ["sentence", ...]} (and optionally "configuration": {"k": N})')
            k = _k((request.get("configuration") or {}).get("k", 1))
            answers = [self._answer(instance, k) for instance in request["instances"]]
            return json.dumps(answers).encode(), JSON
        if kind == JSONLINES:
            answers = []
            for line in filter(str.strip, text.splitlines()):
                record = _json(line)
                if not isinstance(record, dict) or "source" not in record:
                    raise ClientError('each JSON line must be {"source": "sentence"} (optionally with "k")')
                answers.append(self._answer(record["source"], _k(record.get("k", 1))))
            return "".join(json.dumps(a) + "\n" for a in answers).encode(), JSONLINES
        raise ClientError(f"content type {kind!r} is not supported: use {JSON} or {JSONLINES}")

    def _answer(self, instance, k: int) -> dict:
        if not isinstance(instance, str):
            raise ClientError(f"each instance must be a string, got {type(instance).__name__}")
        sentence = " ".join(instance.split())  # fastText predicts one line: no newlines inside
        labels, probs = self.model.predict(sentence, k=k)
        return {"label": list(labels), "prob": [round(float(p), 6) for p in probs]}


def _json(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ClientError(f"the request is not valid JSON: {err}") from None


def _k(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ClientError(f"k must be a positive integer, got {value!r}")
    return value


def load(model_dir: Path, environment: dict | None = None) -> BlazingTextModel:
    import fasttext

    if not (model_dir / MODEL_FILE).exists():
        found = sorted(p.name for p in model_dir.iterdir()) if model_dir.exists() else []
        raise ClientError(f"model.tar.gz has no {MODEL_FILE} (found {found}): was it trained in supervised mode?")
    return BlazingTextModel(fasttext.load_model(str(model_dir / MODEL_FILE)))
