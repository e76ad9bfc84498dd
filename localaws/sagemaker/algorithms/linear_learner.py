"""linear-learner, computed with scikit-learn's SGD linear models.

Like the real algorithm, it normalises features (and the label for regression), trains
several models in parallel with nearby learning rates and L2 weights (`num_models`),
keeps the best on the validation channel (or on the training data), stops early when the
loss stops improving, and reports train/validation/test metrics under the same names.
Differences, said plainly: scikit-learn's SGD updates the weights once per example, so
`mini_batch_size` and the Adam-specific settings are accepted but do not change the
result; `quantile_loss` is not emulated.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import sparse

from . import formats
from .base import Channel, ClientError, Hyperparameter as H, Log, model_file, check_stop

REPOSITORIES = ("linear-learner",)
AUTO_FLOAT, AUTO_INT = "auto-float", "auto-int"
HYPERPARAMETERS = {
    "predictor_type": H(str, choices={"regressor", "binary_classifier", "multiclass_classifier"}),
    "feature_dim": H(AUTO_INT, "auto", low=1),
    "num_classes": H(int, None, low=3),
    "epochs": H(int, 15, low=1),
    "mini_batch_size": H(int, 1000, low=1),
    "learning_rate": H(AUTO_FLOAT, "auto", low=0),
    "wd": H(AUTO_FLOAT, "auto", low=0),
    "l1": H(AUTO_FLOAT, "auto", low=0),
    "loss": H(str, "auto", choices={"auto", "logistic", "squared_loss", "absolute_loss", "hinge_loss",
                                    "eps_insensitive_squared_loss", "eps_insensitive_absolute_loss",
                                    "quantile_loss", "huber_loss", "softmax_loss"}),
    "huber_delta": H(float, 1.0, low=0),
    "loss_insensitivity": H(float, 0.01, low=0),
    "normalize_data": H(str, "true", choices={"auto", "true", "false"}),
    "normalize_label": H(str, "auto", choices={"auto", "true", "false"}),
    "num_models": H(AUTO_INT, "auto", low=1),
    "early_stopping_patience": H(int, 3, low=1),
    "early_stopping_tolerance": H(float, 0.001, low=0),
    "use_bias": H(bool, True),
    "binary_classifier_model_selection_criteria": H(str, "accuracy", choices={
        "accuracy", "f_beta", "precision_at_target_recall", "recall_at_target_precision",
        "loss_function", "cross_entropy_loss"}),
    "f_beta": H(float, 1.0, low=0),
    "target_precision": H(float, 0.8, low=0, high=1),
    "target_recall": H(float, 0.8, low=0, high=1),
    "positive_example_weight_mult": H(str, "1.0"),
    "accuracy_top_k": H(int, 3, low=1),
    "balance_multiclass_weights": H(bool, False),
    # accepted for compatibility with AWS; the SGD engine has no use for them
    **{name: H(str, "auto") for name in (
        "optimizer", "beta_1", "beta_2", "bias_lr_mult", "bias_wd_mult", "momentum",
        "lr_scheduler_factor", "lr_scheduler_minimum_lr", "lr_scheduler_step", "use_lr_scheduler",
        "init_method", "init_scale", "init_sigma", "init_bias", "margin", "quantile",
        "num_calibration_samples", "num_point_for_scaler", "unbias_data", "unbias_label")},
}
MODEL_FILE = "localaws-linear-learner.json"
REGRESSION_LOSSES = {  # LL loss -> (scikit-learn loss, its epsilon hyperparameter)
    "auto": ("squared_error", None), "squared_loss": ("squared_error", None),
    "absolute_loss": ("epsilon_insensitive", 0.0), "huber_loss": ("huber", "huber_delta"),
    "eps_insensitive_squared_loss": ("squared_epsilon_insensitive", "loss_insensitivity"),
    "eps_insensitive_absolute_loss": ("epsilon_insensitive", "loss_insensitivity"),
}


# ---------------------------------------------------------------- training
def train(channels: dict[str, Channel], hp: dict, model_dir: Path, log: Log, context=None) -> dict[str, float]:
    kind = hp["predictor_type"]
    if kind == "multiclass_classifier" and not hp["num_classes"]:
        raise ClientError("num_classes is required when predictor_type is multiclass_classifier")
    if "train" not in channels:
        raise ClientError("linear-learner needs a 'train' channel")
    dim = hp["feature_dim"]
    data = {}
    for name in ("train", "validation", "test"):
        if name in channels:
            X, y = formats.read_channel(channels[name], None if dim == "auto" else dim)
            if y is None:
                raise ClientError(f"channel '{name}' has no labels")
            formats.check_feature_dim(X, dim, f"channel '{name}'")
            data[name] = (X, y)
            log(f"[{name}] {X.shape[0]} records, {X.shape[1]} features"
                f"{' (sparse)' if sparse.issparse(X) else ''}")
    X, y = data["train"]
    _check_labels(y, kind, hp["num_classes"])

    scaler = _Scaler.fit(X, y, kind, hp)
    candidates = _candidates(kind, hp)
    log(f"training {len(candidates)} model(s) in parallel with scikit-learn SGD, "
        f"up to {hp['epochs']} epochs")
    selection = data.get("validation", data["train"])
    Xs, ys = scaler.features(X), scaler.label(y)
    Xsel = scaler.features(selection[0])
    rng = np.random.default_rng(0)
    best_loss, stale = np.inf, 0
    for epoch in range(hp["epochs"]):
        check_stop(context)
        order = rng.permutation(Xs.shape[0])
        for model in candidates:
            model.partial_fit(Xs[order], ys[order], **({"classes": _classes(kind, hp)} if kind != "regressor" else {}))
        losses = [_objective(kind, m, Xsel, scaler.label(selection[1]), scaler) for m in candidates]
        epoch_best = float(np.min(losses))
        where = "validation" if "validation" in data else "train"
        log(f"#quality_metric: host=algo-1, epoch={epoch}, {where} objective_loss <loss>={epoch_best:.6f}")
        if epoch_best < best_loss * (1 - hp["early_stopping_tolerance"]):
            best_loss, stale = epoch_best, 0
        else:
            stale += 1
            if stale >= hp["early_stopping_patience"]:
                log(f"early stopping after epoch {epoch}: no improvement for {stale} epochs")
                break
    chosen = candidates[int(np.argmin([_objective(kind, m, Xsel, scaler.label(selection[1]), scaler)
                                       for m in candidates]))]
    model = LinearModel.from_sklearn(kind, chosen, scaler, hp)
    if kind == "binary_classifier":
        model.threshold = _best_threshold(model.scores(selection[0]), selection[1], hp)
        log(f"decision threshold chosen for {hp['binary_classifier_model_selection_criteria']}: "
            f"{model.threshold:.4f}")
    model_dir.mkdir(parents=True, exist_ok=True)
    model.save(model_dir / MODEL_FILE)

    metrics = {"train:objective_loss": model.objective_loss(*data["train"])}
    for name in ("validation", "test"):
        if name in data:
            metrics.update({f"{name}:{k}": v for k, v in model.evaluate(*data[name], hp).items()})
    for name, value in metrics.items():
        log(f"#quality_metric: host=algo-1, {name.replace(':', ' ')} <score>={value:.6f}")
    return metrics


def _check_labels(y: np.ndarray, kind: str, num_classes: int | None) -> None:
    if kind == "binary_classifier" and not np.isin(y, (0, 1)).all():
        raise ClientError("binary_classifier labels must be 0 or 1")
    if kind == "multiclass_classifier" and not (np.isin(y, np.arange(num_classes))).all():
        raise ClientError(f"multiclass_classifier labels must be integers 0..{num_classes - 1}")


def _classes(kind: str, hp: dict) -> np.ndarray:
    return np.arange(2 if kind == "binary_classifier" else hp["num_classes"])


class _Scaler:
    """normalize_data / normalize_label as the real algorithm does them."""

    def __init__(self, mean, scale, y_mean=0.0, y_scale=1.0):
        self.mean, self.scale, self.y_mean, self.y_scale = mean, scale, y_mean, y_scale

    @classmethod
    def fit(cls, X, y, kind: str, hp: dict) -> "_Scaler":
        d = X.shape[1]
        mean, scale = np.zeros(d), np.ones(d)
        if hp["normalize_data"] != "false":
            if sparse.issparse(X):  # centring would destroy sparsity: scale only
                scale = np.sqrt(np.asarray(X.multiply(X).mean(axis=0)).ravel())
            else:
                mean, scale = X.mean(axis=0), X.std(axis=0)
            scale = np.where(scale > 0, scale, 1.0)
        y_mean, y_scale = 0.0, 1.0
        if kind == "regressor" and hp["normalize_label"] != "false":
            y_mean, y_scale = float(y.mean()), float(y.std() or 1.0)
        return cls(mean, scale, y_mean, y_scale)

    def features(self, X):
        if sparse.issparse(X):
            return sparse.csr_matrix(X.multiply(1.0 / self.scale))
        return (X - self.mean) / self.scale

    def label(self, y):
        return (y - self.y_mean) / self.y_scale


def _candidates(kind: str, hp: dict) -> list:
    """The parallel models: the user's settings, or a small grid around sensible defaults."""
    from sklearn.linear_model import SGDClassifier, SGDRegressor

    rates = [hp["learning_rate"]] if hp["learning_rate"] != "auto" else [0.001, 0.01, 0.05]
    l2s = [hp["wd"]] if hp["wd"] != "auto" else [1e-6, 1e-3]
    l1 = 0.0 if hp["l1"] == "auto" else hp["l1"]
    grid = [(r, w) for r in rates for w in l2s]
    if hp["num_models"] != "auto":
        grid = (grid * hp["num_models"])[: hp["num_models"]]
    common = dict(fit_intercept=hp["use_bias"], learning_rate="invscaling", power_t=0.25,
                  random_state=0, average=False)
    models = []
    for i, (rate, l2) in enumerate(grid):
        alpha = max(l2 + l1, 1e-12)
        penalty = dict(penalty="elasticnet", alpha=alpha, l1_ratio=l1 / alpha)
        if kind == "regressor":
            loss, eps = REGRESSION_LOSSES.get(hp["loss"], (None, None))
            if loss is None:
                raise ClientError(f"loss '{hp['loss']}' is not emulated for regressors offline")
            epsilon = hp[eps] if isinstance(eps, str) else (eps if eps is not None else 0.1)
            models.append(SGDRegressor(loss=loss, epsilon=epsilon, eta0=rate, **penalty,
                                       **{**common, "random_state": i}))
        else:
            if hp["loss"] not in ("auto", "logistic", "softmax_loss", "hinge_loss"):
                raise ClientError(f"loss '{hp['loss']}' is not valid for {kind}")
            loss = "hinge" if hp["loss"] == "hinge_loss" else "log_loss"
            weight = None
            if kind == "binary_classifier" and hp["positive_example_weight_mult"] not in ("1.0", "auto"):
                weight = "balanced" if hp["positive_example_weight_mult"] == "balanced" else \
                    {0: 1.0, 1: float(hp["positive_example_weight_mult"])}
            if kind == "multiclass_classifier" and hp["balance_multiclass_weights"]:
                weight = "balanced"
            models.append(SGDClassifier(loss=loss, eta0=rate, class_weight=weight, **penalty,
                                        **{**common, "random_state": i}))
    return models


def _objective(kind: str, model, Xs, ys, scaler: _Scaler) -> float:
    if kind == "regressor":  # mean squared error in the label's own units
        return float(np.mean((model.predict(Xs) - ys) ** 2)) * scaler.y_scale ** 2
    scores = _class_probabilities(model, Xs)
    picked = scores[np.arange(len(ys)), ys.astype(int)]
    return float(-np.mean(np.log(np.clip(picked, 1e-12, 1.0))))


def _class_probabilities(model, Xs) -> np.ndarray:
    if getattr(model, "loss", "") == "log_loss":
        return model.predict_proba(Xs)
    margin = model.decision_function(Xs)  # hinge: squash margins into (0, 1)
    if margin.ndim == 1:
        p = 1 / (1 + np.exp(-margin))
        return np.column_stack([1 - p, p])
    e = np.exp(margin - margin.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _best_threshold(scores: np.ndarray, y: np.ndarray, hp: dict) -> float:
    criterion = hp["binary_classifier_model_selection_criteria"]
    if criterion in ("loss_function", "cross_entropy_loss"):
        return 0.5
    from sklearn.metrics import fbeta_score, precision_score, recall_score

    best, best_value = 0.5, -np.inf
    for t in np.unique(np.quantile(scores, np.linspace(0.01, 0.99, 99))):
        pred = (scores >= t).astype(int)
        if criterion == "accuracy":
            value = np.mean(pred == y)
        elif criterion == "f_beta":
            value = fbeta_score(y, pred, beta=hp["f_beta"], zero_division=0)
        elif criterion == "precision_at_target_recall":
            value = precision_score(y, pred, zero_division=0) if recall_score(y, pred) >= hp["target_recall"] else -1
        else:
            value = recall_score(y, pred, zero_division=0) if precision_score(y, pred, zero_division=0) >= hp["target_precision"] else -1
        if value > best_value:
            best, best_value = float(t), value
    return best


# ---------------------------------------------------------------- the model
class LinearModel:
    """Weights in the original feature units, saved as readable JSON in model.tar.gz."""

    default_accept = formats.JSON

    def __init__(self, kind, coef, intercept, y_mean=0.0, y_scale=1.0, threshold=0.5, loss="log_loss"):
        self.kind, self.coef, self.intercept = kind, np.atleast_2d(coef), np.atleast_1d(intercept)
        self.y_mean, self.y_scale, self.threshold, self.loss = y_mean, y_scale, threshold, loss

    @classmethod
    def from_sklearn(cls, kind, model, scaler: _Scaler, hp: dict) -> "LinearModel":
        # fold the feature scaling into the weights: w·((x - m)/s) + b = (w/s)·x + (b - w·m/s)
        coef = np.atleast_2d(model.coef_) / scaler.scale
        intercept = np.atleast_1d(model.intercept_) - coef @ scaler.mean
        return cls(kind, coef, intercept, scaler.y_mean, scaler.y_scale,
                   loss=getattr(model, "loss", "squared_error"))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({
            "engine": "localaws linear-learner (scikit-learn SGD)", "predictor_type": self.kind,
            "coef": self.coef.tolist(), "intercept": self.intercept.tolist(),
            "label_mean": self.y_mean, "label_scale": self.y_scale,
            "threshold": self.threshold, "loss": self.loss}, indent=1))

    @classmethod
    def load(cls, path: Path) -> "LinearModel":
        d = json.loads(path.read_text())
        return cls(d["predictor_type"], np.asarray(d["coef"]), np.asarray(d["intercept"]),
                   d["label_mean"], d["label_scale"], d["threshold"], d.get("loss", "log_loss"))

    @property
    def feature_dim(self) -> int:
        return self.coef.shape[1]

    def _margin(self, X) -> np.ndarray:
        return np.asarray(X @ self.coef.T) + self.intercept

    def scores(self, X) -> np.ndarray:
        """Regression: the prediction; binary: P(label=1); multiclass: class probabilities."""
        margin = self._margin(X)
        if self.kind == "regressor":
            return margin[:, 0] * self.y_scale + self.y_mean
        if self.kind == "binary_classifier":
            return 1 / (1 + np.exp(-margin[:, -1]))
        e = np.exp(margin - margin.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def objective_loss(self, X, y) -> float:
        s = self.scores(X)
        if self.kind == "regressor":
            return float(np.mean((s - y) ** 2))
        p = s if self.kind == "binary_classifier" else s[np.arange(len(y)), y.astype(int)]
        p = np.where(y == 1, p, 1 - p) if self.kind == "binary_classifier" else p
        return float(-np.mean(np.log(np.clip(p, 1e-12, 1))))

    def evaluate(self, X, y, hp: dict) -> dict[str, float]:
        from sklearn import metrics as m

        s = self.scores(X)
        out = {"objective_loss": self.objective_loss(X, y)}
        if self.kind == "regressor":
            out.update(mse=float(np.mean((s - y) ** 2)), absolute_loss=float(np.mean(np.abs(s - y))))
        elif self.kind == "binary_classifier":
            pred = (s >= self.threshold).astype(int)
            out.update(binary_classification_accuracy=float(np.mean(pred == y)),
                       binary_f_beta=float(m.fbeta_score(y, pred, beta=hp["f_beta"], zero_division=0)),
                       precision=float(m.precision_score(y, pred, zero_division=0)),
                       recall=float(m.recall_score(y, pred, zero_division=0)))
            if len(np.unique(y)) == 2:
                out["roc_auc_score"] = float(m.roc_auc_score(y, s))
        else:
            pred = s.argmax(axis=1)
            top_k = np.argsort(s, axis=1)[:, -hp["accuracy_top_k"]:]
            out.update(multiclass_accuracy=float(np.mean(pred == y)),
                       multiclass_top_k_accuracy=float(np.mean((top_k == y[:, None]).any(axis=1))),
                       macro_precision=float(m.precision_score(y, pred, average="macro", zero_division=0)),
                       macro_recall=float(m.recall_score(y, pred, average="macro", zero_division=0)),
                       macro_f_beta=float(m.fbeta_score(y, pred, beta=hp["f_beta"], average="macro", zero_division=0)))
        return out

    def predict(self, body: bytes, content_type: str, accept: str | None) -> tuple[bytes, str]:
        X = formats.parse_request(body, content_type, self.feature_dim)
        s = self.scores(X)
        if self.kind == "regressor":
            predictions = [{"score": float(v)} for v in s]
        elif self.kind == "binary_classifier":
            predictions = [{"score": float(v), "predicted_label": int(v >= self.threshold)} for v in s]
        else:
            predictions = [{"score": [float(p) for p in row], "predicted_label": int(row.argmax())} for row in s]
        return formats.encode_predictions(predictions, accept, self.default_accept)


def load(model_dir: Path) -> LinearModel:
    return LinearModel.load(model_file(model_dir, MODEL_FILE, "linear-learner"))
