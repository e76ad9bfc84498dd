"""factorization-machines, computed by our own factorization machine in numpy.

Why numpy and not TensorFlow: the model is a bias, one weight per feature and a
`num_factors`-long vector per feature, fitted by mini-batch gradient steps on very sparse
rows; scipy's CSR products do that in a few lines, start in milliseconds and keep
TensorFlow's multi-second import out of every training job.

    score(x) = w0 + sum_i w_i x_i + 1/2 sum_f [(sum_i v_if x_i)^2 - sum_i v_if^2 x_i^2]

As on AWS: the three parts have their own initialisation (`*_init_method`, `_sigma`,
`_scale`, `_value`), learning rate and weight decay (`bias_lr`, `linear_wd` ...); only the
rows of a feature seen in a mini-batch are updated (lazy sparse updates), with Adam
(`eps`, `clip_gradient`, `rescale_grad`). Regressors minimise squared error, binary
classifiers the logistic loss. Differences, said plainly: our optimiser, initial random
state and stopping differ from AWS's MXNet implementation, so scores are close, not
identical; the artefact is our own .npz, not MXNet parameters.

Input: RecordIO-protobuf, usually sparse (`write_spmatrix_to_sparse_tensor`); inference
takes dense or sparse JSON instances, JSON lines or RecordIO and answers
`{"predictions": [{"score": ...}]}` (+ `predicted_label` for binary classifiers).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import sparse

from . import formats
from .base import Channel, ClientError, Hyperparameter as H, Log, model_file, check_stop

REPOSITORIES = ("factorization-machines",)
INIT_METHODS = {"normal", "uniform", "constant"}
PARTS = ("bias", "linear", "factors")
HYPERPARAMETERS = {
    "feature_dim": H(int, low=1),
    "num_factors": H(int, low=1),
    "predictor_type": H(str, choices={"regressor", "binary_classifier"}),
    "epochs": H(int, 1, low=1),
    "mini_batch_size": H(int, 1000, low=1),
    "eps": H(float, 1e-8, low=0),
    "clip_gradient": H(float, None),
    "rescale_grad": H(float, None),
    **{f"{part}_lr": H(float, lr, low=0) for part, lr in zip(PARTS, (0.1, 0.001, 0.0001))},
    **{f"{part}_wd": H(float, wd, low=0) for part, wd in zip(PARTS, (0.01, 0.001, 0.00001))},
    **{f"{part}_init_method": H(str, "normal", choices=INIT_METHODS) for part in PARTS},
    **{f"{part}_init_sigma": H(float, sigma, low=0) for part, sigma in zip(PARTS, (0.01, 0.01, 0.001))},
    **{f"{part}_init_scale": H(float, None, low=0) for part in PARTS},
    **{f"{part}_init_value": H(float, None) for part in PARTS},
}
MODEL_FILE = "localaws-factorization-machines.npz"


# ---------------------------------------------------------------- the model
class FactorizationMachine:
    default_accept = formats.JSON

    def __init__(self, kind: str, w0: float, w: np.ndarray, V: np.ndarray):
        self.kind, self.w0, self.w, self.V = kind, float(w0), np.asarray(w, float), np.asarray(V, float)

    @property
    def feature_dim(self) -> int:
        return self.w.shape[0]

    def margin(self, X) -> np.ndarray:
        X = sparse.csr_matrix(X)
        XV = np.asarray(X @ self.V)
        X2V2 = np.asarray(X.multiply(X) @ (self.V ** 2))
        return self.w0 + np.asarray(X @ self.w).ravel() + 0.5 * (XV ** 2 - X2V2).sum(axis=1)

    def scores(self, X) -> np.ndarray:
        m = self.margin(X)
        return m if self.kind == "regressor" else 1 / (1 + np.exp(-np.clip(m, -35, 35)))

    def evaluate(self, X, y) -> dict[str, float]:
        s = self.scores(X)
        if self.kind == "regressor":
            return {"rmse": float(np.sqrt(np.mean((s - y) ** 2)))}
        from sklearn.metrics import f1_score

        pred = (s >= 0.5).astype(int)
        p = np.clip(s, 1e-12, 1 - 1e-12)
        return {"binary_classification_accuracy": float(np.mean(pred == y)),
                "binary_classification_cross_entropy": float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))),
                "binary_f_beta": float(f1_score(y, pred, zero_division=0))}

    def save(self, path: Path) -> None:
        np.savez(path, w0=self.w0, w=self.w, V=self.V, kind=self.kind)

    @classmethod
    def load(cls, path: Path) -> "FactorizationMachine":
        d = np.load(path)
        return cls(str(d["kind"]), float(d["w0"]), d["w"], d["V"])

    def predict(self, body: bytes, content_type: str, accept: str | None) -> tuple[bytes, str]:
        X = formats.parse_request(body, content_type or formats.JSON, self.feature_dim)
        s = self.scores(X)
        if self.kind == "regressor":
            predictions = [{"score": float(v)} for v in s]
        else:
            predictions = [{"score": float(v), "predicted_label": float(v >= 0.5)} for v in s]
        return formats.encode_predictions(predictions, accept, self.default_accept)


def load(model_dir: Path) -> FactorizationMachine:
    return FactorizationMachine.load(model_file(model_dir, MODEL_FILE, "factorization-machines"))


# ---------------------------------------------------------------- training
def _initial(part: str, shape, hp: dict, rng) -> np.ndarray:
    method = hp[f"{part}_init_method"]
    if method == "normal":
        return rng.normal(scale=hp[f"{part}_init_sigma"], size=shape)
    if method == "uniform":
        scale = hp[f"{part}_init_scale"]
        if scale is None:
            raise ClientError(f"{part}_init_scale is required when {part}_init_method is uniform")
        return rng.uniform(-scale, scale, size=shape)
    value = hp[f"{part}_init_value"]
    if value is None:
        raise ClientError(f"{part}_init_value is required when {part}_init_method is constant")
    return np.full(shape, value, dtype=float)


class _Adam:
    """Adam on the rows of one parameter array that a mini-batch touched (lazy update)."""

    def __init__(self, param: np.ndarray, lr: float, wd: float, hp: dict):
        self.param, self.lr, self.wd = param, lr, wd
        self.m, self.v = np.zeros_like(param), np.zeros_like(param)
        self.steps = np.zeros(param.shape[0] if param.ndim else 1)
        self.eps, self.clip, self.rescale = hp["eps"], hp["clip_gradient"], hp["rescale_grad"]

    def step(self, rows, grad: np.ndarray) -> None:
        if self.rescale is not None:
            grad = grad * self.rescale
        grad = grad + self.wd * self.param[rows]
        if self.clip is not None:
            grad = np.clip(grad, -self.clip, self.clip)
        self.steps[rows] += 1
        t = self.steps[rows].reshape((-1,) + (1,) * (grad.ndim - 1)) if grad.ndim else self.steps[0]
        self.m[rows] = 0.9 * self.m[rows] + 0.1 * grad
        self.v[rows] = 0.999 * self.v[rows] + 0.001 * grad ** 2
        m_hat, v_hat = self.m[rows] / (1 - 0.9 ** t), self.v[rows] / (1 - 0.999 ** t)
        self.param[rows] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def _labelled(channel: Channel, hp: dict, kind: str):
    X, y = formats.read_channel(channel, hp["feature_dim"])
    if y is None or np.isnan(y).any():
        raise ClientError(f"channel '{channel.name}': every record needs a label")
    formats.check_feature_dim(X, hp["feature_dim"], f"channel '{channel.name}'")
    if kind == "binary_classifier" and not np.isin(y, (0, 1)).all():
        raise ClientError("binary_classifier labels must be 0 or 1")
    return sparse.csr_matrix(X, dtype=np.float64), y


def train(channels: dict[str, Channel], hp: dict, model_dir: Path, log: Log, context=None) -> dict[str, float]:
    kind = hp["predictor_type"]
    if "train" not in channels:
        raise ClientError("factorization-machines needs a 'train' channel")
    X, y = _labelled(channels["train"], hp, kind)
    test = _labelled(channels["test"], hp, kind) if "test" in channels else None
    d, k, n = hp["feature_dim"], hp["num_factors"], X.shape[0]
    log(f"[train] {n} records, {d} features ({X.nnz / max(n, 1):.1f} non-zero per record), "
        f"{k} factors, {hp['epochs']} epoch(s) of mini-batches of {hp['mini_batch_size']}")
    rng = np.random.default_rng(0)
    model = FactorizationMachine(kind, 0.0, _initial("linear", d, hp, rng), _initial("factors", (d, k), hp, rng))
    w0 = np.array([_initial("bias", 1, hp, rng)[0]])
    optimisers = {"bias": _Adam(w0, hp["bias_lr"], hp["bias_wd"], hp),
                  "linear": _Adam(model.w, hp["linear_lr"], hp["linear_wd"], hp),
                  "factors": _Adam(model.V, hp["factors_lr"], hp["factors_wd"], hp)}
    batch = min(hp["mini_batch_size"], n)
    for epoch in range(hp["epochs"]):
        check_stop(context)
        order = rng.permutation(n)
        for start in range(0, n, batch):
            _step(model, X, y, order[start:start + batch], optimisers, w0)
        model.w0 = float(w0[0])
        if epoch == hp["epochs"] - 1 or epoch % max(1, hp["epochs"] // 10) == 0:
            fit = model.evaluate(X, y)
            name, value = next(iter(fit.items()))
            log(f"#quality_metric: host=algo-1, epoch={epoch}, train {name} <score>={value:.6f}")
    model_dir.mkdir(parents=True, exist_ok=True)
    model.save(model_dir / MODEL_FILE)
    metrics = {}
    if test is not None:
        for name, value in model.evaluate(*test).items():
            metrics[f"test:{name}"] = value
            log(f"#test_score (algo-1) : ('{name}', {value})")
    return metrics


def _batch_entries(X: sparse.csr_matrix, rows: np.ndarray):
    """The non-zero entries of the batch's rows: batch-local row, feature, value."""
    starts, ends = X.indptr[rows], X.indptr[rows + 1]
    lengths = ends - starts
    positions = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    return np.repeat(np.arange(len(rows)), lengths), X.indices[positions], X.data[positions]


def _step(model: FactorizationMachine, X: sparse.csr_matrix, y: np.ndarray, rows: np.ndarray,
          optimisers: dict, w0: np.ndarray) -> None:
    """One mini-batch: gradients of the mean loss, applied to the features it touches.
    Works on the non-zero entries only (a one-hot row has a handful), no matrix products."""
    row, col, val = _batch_entries(X, rows)
    b, k = len(rows), model.V.shape[1]
    Vc = model.V[col]
    weighted = val[:, None] * Vc
    XV = np.zeros((b, k))
    np.add.at(XV, row, weighted)
    squares = np.bincount(row, weights=(weighted ** 2).sum(axis=1), minlength=b)
    linear = np.bincount(row, weights=val * model.w[col], minlength=b)
    margin = w0[0] + linear + 0.5 * ((XV ** 2).sum(axis=1) - squares)
    score = margin if model.kind == "regressor" else 1 / (1 + np.exp(-np.clip(margin, -35, 35)))
    g = (score - y[rows]) / b  # d loss / d margin: squared error (1/2 e^2) and logistic alike
    touched, local = np.unique(col, return_inverse=True)
    grad_w = np.bincount(local, weights=g[row] * val, minlength=len(touched))
    grad_V = np.zeros((len(touched), k))
    np.add.at(grad_V, local, (g[row] * val)[:, None] * (XV[row] - weighted))
    optimisers["bias"].step(np.array([0]), np.array([g.sum()]))
    optimisers["linear"].step(touched, grad_w)
    optimisers["factors"].step(touched, grad_V)
