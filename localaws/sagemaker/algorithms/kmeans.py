"""k-means, computed with scikit-learn.

The real algorithm streams mini-batches through a web-scale k-means that keeps
`k * extra_center_factor` centres, then shrinks them to `k` with a local Lloyd's run on
the weighted centres. This module does the same two steps with scikit-learn:
`MiniBatchKMeans` for the stream (`mini_batch_size`, `epochs`, `init_method`) and
`KMeans` on the centres weighted by their counts (`local_lloyd_*`). Differences, said
plainly: `half_life_time_size` (decaying old points) is accepted but not emulated, and
the model artefact is our own JSON, not AWS's MXNet parameters file.

Input: RecordIO-protobuf (as `KMeans.record_set()` writes it) or headerless CSV with no
label column. Answers: `closest_cluster` and `distance_to_cluster` (Euclidean) per record.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import sparse

from . import formats
from .base import Channel, ClientError, Hyperparameter as H, Log, model_file, check_stop

REPOSITORIES = ("kmeans",)
HYPERPARAMETERS = {
    "k": H(int, low=1),
    "feature_dim": H(int, low=1),
    "mini_batch_size": H(int, 5000, low=1),
    "epochs": H(int, 1, low=1),
    "init_method": H(str, "random", choices={"random", "kmeans++"}),
    "extra_center_factor": H("auto-int", "auto", low=1),
    "local_lloyd_max_iter": H(int, 300, low=1),
    "local_lloyd_tol": H(float, 0.0001, low=0, high=1),
    "local_lloyd_init_method": H(str, "kmeans++", choices={"random", "kmeans++"}),
    "local_lloyd_num_trials": H("auto-int", "auto", low=1),
    "half_life_time_size": H(int, 0, low=0),
    "eval_metrics": H(str, '["msd"]'),
    "force_dense": H(bool, True),  # the SDK sends it; scikit-learn works on sparse rows as they are
}
MODEL_FILE = "localaws-kmeans.json"


def _eval_metrics(raw: str) -> list[str]:
    try:
        names = json.loads(raw.replace("'", '"'))
    except ValueError:
        raise ClientError(f'eval_metrics must be a JSON list such as ["msd","ssd"], got {raw!r}') from None
    if not isinstance(names, list) or not names or set(names) - {"msd", "ssd"}:
        raise ClientError(f'eval_metrics must list "msd" and/or "ssd", got {raw!r}')
    return names


def _features(channel: Channel, feature_dim: int) -> np.ndarray:
    X, _ = formats.read_channel(channel, feature_dim, label_first=False)
    formats.check_feature_dim(X, feature_dim, f"channel '{channel.name}'")
    return X if sparse.issparse(X) else np.asarray(X, dtype=np.float64)  # scikit-learn takes CSR


def train(channels: dict[str, Channel], hp: dict, model_dir: Path, log: Log, context=None) -> dict[str, float]:
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if "train" not in channels:
        raise ClientError("kmeans needs a 'train' channel")
    metric_names = _eval_metrics(hp["eval_metrics"])
    X = _features(channels["train"], hp["feature_dim"])
    k = hp["k"]
    if X.shape[0] < k:
        raise ClientError(f"k={k} clusters but only {X.shape[0]} training records")
    factor = hp["extra_center_factor"]
    factor = max(1, min(10, int(np.ceil(np.log(max(X.shape[0], 2)))))) if factor == "auto" else factor
    n_centres = min(X.shape[0], k * factor)
    log(f"[train] {X.shape[0]} records, {X.shape[1]} features; streaming k-means with "
        f"{n_centres} centres ({k} x extra_center_factor {factor}), {hp['epochs']} epoch(s)")
    stream = MiniBatchKMeans(n_clusters=n_centres, batch_size=min(hp["mini_batch_size"], X.shape[0]),
                             max_iter=hp["epochs"], init="k-means++" if hp["init_method"] == "kmeans++" else "random",
                             n_init=1, random_state=0, compute_labels=True)
    check_stop(context)
    stream.fit(X)
    weights = np.bincount(stream.labels_, minlength=n_centres).astype(float)
    keep = weights > 0
    trials = 10 if hp["local_lloyd_num_trials"] == "auto" else hp["local_lloyd_num_trials"]
    if keep.sum() < k:
        raise ClientError(f"only {int(keep.sum())} distinct centres found for k={k}: the data has "
                          "fewer distinct points than clusters")
    local = KMeans(n_clusters=k, init="k-means++" if hp["local_lloyd_init_method"] == "kmeans++" else "random",
                   n_init=trials, max_iter=hp["local_lloyd_max_iter"], tol=hp["local_lloyd_tol"],
                   random_state=0)
    local.fit(stream.cluster_centers_[keep], sample_weight=weights[keep])
    log(f"local Lloyd's reduced {int(keep.sum())} centres to {k} ({trials} trial(s))")
    model = KMeansModel(local.cluster_centers_)
    model_dir.mkdir(parents=True, exist_ok=True)
    model.save(model_dir / MODEL_FILE)

    metrics = {}
    for name, data in (("train", X), ("test", None)):
        if name == "test":
            if "test" not in channels:
                continue
            data = _features(channels["test"], hp["feature_dim"])
        _, distances = model.assign(data)
        squared = distances ** 2
        values = {"msd": float(squared.mean()), "ssd": float(squared.sum())}
        for metric in metric_names:
            log(f"#{name}_score (algo-1) : ('{metric}', {values[metric]})")
            if name == "test":  # AWS reports test:msd / test:ssd as the job's final metrics
                metrics[f"test:{metric}"] = values[metric]
    return metrics


class KMeansModel:
    """The k centres; JSON in model.tar.gz."""

    default_accept = formats.JSON

    def __init__(self, centres):
        self.centres = np.asarray(centres, dtype=np.float64)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"engine": "localaws kmeans (scikit-learn)",
                                    "centres": self.centres.tolist()}))

    @classmethod
    def load(cls, path: Path) -> "KMeansModel":
        return cls(json.loads(path.read_text())["centres"])

    def assign(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Closest centre and the Euclidean distance to it, per row."""
        if sparse.issparse(X):
            norms = np.asarray(X.multiply(X).sum(axis=1)).ravel()
        else:
            X = np.asarray(X, dtype=np.float64)
            norms = (X ** 2).sum(axis=1)
        squared = (norms[:, None] - 2 * np.asarray(X @ self.centres.T)
                   + (self.centres ** 2).sum(axis=1)[None, :])
        closest = squared.argmin(axis=1)
        return closest, np.sqrt(np.maximum(squared[np.arange(X.shape[0]), closest], 0.0))

    def predict(self, body: bytes, content_type: str, accept: str | None) -> tuple[bytes, str]:
        X = formats.parse_request(body, content_type, self.centres.shape[1])
        closest, distance = self.assign(X)
        predictions = [{"closest_cluster": float(c), "distance_to_cluster": float(d)}
                       for c, d in zip(closest, distance)]
        return formats.encode_predictions(predictions, accept, self.default_accept)


def load(model_dir: Path) -> KMeansModel:
    return KMeansModel.load(model_file(model_dir, MODEL_FILE, "kmeans"))
