"""How a hyperparameter tuning job chooses the hyperparameters of its next training jobs.

- Random: each value drawn independently, uniformly on the range's scale (Linear,
  Logarithmic, ReverseLogarithmic).
- Bayesian: after a few random jobs, a Gaussian process (scikit-learn) models the objective
  over the normalised ranges and each new batch takes the candidates with the highest
  expected improvement — the idea behind SageMaker's Bayesian strategy, not its exact
  algorithm, so the sequence of jobs differs from AWS's.
- Grid: every combination of the categorical values, as AWS's Grid strategy (which accepts
  categorical ranges only). Hyperband is run as Random, without early stopping of
  brackets; say so if you teach it.

Autotune (`Autotune={"Mode": "Enabled"}` with `ParameterRanges.AutoParameters`, which SDK v2's
`HyperparameterTuner(autotune=True)` sends for every hyperparameter not kept static): AWS
"selects an optimal range" for each AutoParameter it finds eligible (API_AutoParameter) and
does not say how. localaws takes the recommended range AWS documents for that hyperparameter
on the algorithm's "Tune a … model" page (RECOMMENDED_RANGES); a hyperparameter without one
is not eligible and keeps its ValueHint as a static value. The ranges AWS would choose may
differ; the trials' TunedHyperParameters show what localaws chose.
"""
from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass

import numpy as np

from .exceptions import invalid


@dataclass(frozen=True)
class Range:
    name: str
    kind: str  # "Integer", "Continuous", "Categorical"
    low: float = 0.0
    high: float = 0.0
    values: tuple[str, ...] = ()
    scaling: str = "Auto"

    def to_value(self, u: float) -> str:
        """The hyperparameter value at position u in [0, 1] of this range."""
        if self.kind == "Categorical":
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        if self.scaling == "Logarithmic":
            x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        elif self.scaling == "ReverseLogarithmic":
            x = 1 - math.exp(math.log(1 - self.high) + (1 - u) * (math.log(1 - self.low) - math.log(1 - self.high)))
        else:
            x = self.low + u * (self.high - self.low)
        return str(int(round(min(max(x, self.low), self.high)))) if self.kind == "Integer" else repr(float(x))

    def to_position(self, value: str) -> float | None:
        """Where a value lies in [0, 1] of this range (to_value's inverse), or None when the
        value is outside the range: how a warm start places its parents' trials."""
        if self.kind == "Categorical":
            return (self.values.index(value) + 0.5) / len(self.values) if value in self.values else None
        try:
            x = float(value)
        except ValueError:
            return None
        if not self.low <= x <= self.high:
            return None
        if self.high == self.low:
            return 0.5
        if self.scaling == "Logarithmic":
            return (math.log(x) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        if self.scaling == "ReverseLogarithmic":
            return 1 - (math.log(1 - x) - math.log(1 - self.high)) / (math.log(1 - self.low) - math.log(1 - self.high))
        return (x - self.low) / (self.high - self.low)

    def width(self) -> int:
        """Columns this range takes in the Gaussian process's input (one-hot for categories)."""
        return len(self.values) if self.kind == "Categorical" else 1


def parse_ranges(ranges: dict) -> list[Range]:
    """The job's ParameterRanges, checked as AWS checks them."""
    found = []
    for kind in ("Integer", "Continuous"):
        for r in ranges.get(f"{kind}ParameterRanges", []):
            try:
                low, high = float(r["MinValue"]), float(r["MaxValue"])
            except ValueError:
                raise invalid(f"The range of hyperparameter {r['Name']} must be numeric.") from None
            if low > high:
                raise invalid(f"MinValue {r['MinValue']} of hyperparameter {r['Name']} is greater than its MaxValue.")
            scaling = r.get("ScalingType", "Auto")
            if scaling == "Logarithmic" and low <= 0:
                raise invalid(f"Logarithmic scaling of {r['Name']} needs a range above 0.")
            if scaling == "ReverseLogarithmic" and not (0 <= low and high < 1):
                raise invalid(f"ReverseLogarithmic scaling of {r['Name']} needs a range within [0, 1).")
            found.append(Range(r["Name"], kind, low, high, scaling=scaling))
    for r in ranges.get("CategoricalParameterRanges", []):
        if not r["Values"]:
            raise invalid(f"Categorical hyperparameter {r['Name']} needs at least one value.")
        found.append(Range(r["Name"], "Categorical", values=tuple(r["Values"])))
    names = [r.name for r in found]
    if len(names) != len(set(names)):
        raise invalid("A hyperparameter appears in more than one range.")
    return found


class RandomSearch:
    def __init__(self, ranges: list[Range], seed: int | None = None):
        self.ranges, self.rng = ranges, np.random.default_rng(seed)

    def positions(self, n: int) -> np.ndarray:
        return self.rng.random((n, len(self.ranges)))

    def suggest(self, history: list[tuple[np.ndarray, float]], n: int, maximize: bool) -> list[np.ndarray]:
        return list(self.positions(n))

    def values(self, u: np.ndarray) -> dict[str, str]:
        return {r.name: r.to_value(x) for r, x in zip(self.ranges, u)}


class BayesianSearch(RandomSearch):
    WARM_UP = 3        # random jobs before the model has anything to learn from
    CANDIDATES = 2000  # random points scored by expected improvement per suggestion

    def _encode(self, u: np.ndarray) -> np.ndarray:
        columns = []
        for r, x in zip(self.ranges, np.atleast_2d(u).T):
            if r.kind == "Categorical":
                index = np.minimum((x * len(r.values)).astype(int), len(r.values) - 1)
                columns.append(np.eye(len(r.values))[index])
            else:
                columns.append(x[:, None])
        return np.hstack(columns)

    def suggest(self, history, n, maximize):
        if len(history) < self.WARM_UP:
            return list(self.positions(n))
        from scipy.stats import norm
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import Matern, WhiteKernel

        X = self._encode(np.array([u for u, _ in history]))
        y = np.array([v for _, v in history]) * (1 if maximize else -1)
        model = GaussianProcessRegressor(Matern(nu=2.5) + WhiteKernel(1e-3), normalize_y=True,
                                         random_state=int(self.rng.integers(1 << 30)))
        warnings.filterwarnings("ignore", module="sklearn.gaussian_process")  # few points: bounds hit
        model.fit(X, y)
        chosen = []
        for _ in range(n):  # each pick pretends the previous picks scored the current best
            candidates = self.positions(self.CANDIDATES)
            mean, std = model.predict(self._encode(candidates), return_std=True)
            best = y.max()
            z = (mean - best) / np.maximum(std, 1e-9)
            improvement = (mean - best) * norm.cdf(z) + std * norm.pdf(z)
            pick = candidates[int(np.argmax(improvement))]
            chosen.append(pick)
            X, y = np.vstack([X, self._encode(pick)]), np.append(y, best)
            model.fit(X, y)
        return chosen


class GridSearch(RandomSearch):
    def __init__(self, ranges: list[Range], seed: int | None = None):
        if any(r.kind != "Categorical" for r in ranges):
            raise invalid("The Grid strategy supports categorical parameter ranges only.")
        super().__init__(ranges, seed)
        self.grid = [np.array([(i + 0.5) / len(r.values) for i, r in zip(combo, ranges)])
                     for combo in itertools.product(*(range(len(r.values)) for r in ranges))]
        self.issued = 0

    def suggest(self, history, n, maximize):
        chosen = self.grid[self.issued:self.issued + n]
        self.issued += len(chosen)
        return chosen


def _continuous(low: str, high: str) -> dict:
    return {"Kind": "Continuous", "MinValue": low, "MaxValue": high}


def _integer(low: str, high: str) -> dict:
    return {"Kind": "Integer", "MinValue": low, "MaxValue": high}


# The "Recommended Ranges" of the tuning pages of the SageMaker Developer Guide
# (awsdocs/amazon-sagemaker-developer-guide doc_source/xgboost-tuning.md,
# linear-learner-tuning.md, k-means-tuning.md), by ECR repository.
_XGBOOST = {"alpha": _continuous("0", "1000"), "colsample_bylevel": _continuous("0.1", "1"),
            "colsample_bynode": _continuous("0.1", "1"), "colsample_bytree": _continuous("0.5", "1"),
            "eta": _continuous("0.1", "0.5"), "gamma": _continuous("0", "5"), "lambda": _continuous("0", "1000"),
            "max_delta_step": _integer("0", "10"), "max_depth": _integer("0", "10"),
            "min_child_weight": _continuous("0", "120"), "num_round": _integer("1", "4000"),
            "subsample": _continuous("0.5", "1")}
RECOMMENDED_RANGES = {
    "xgboost": _XGBOOST, "sagemaker-xgboost": _XGBOOST,
    "linear-learner": {"wd": _continuous("1e-7", "1"), "l1": _continuous("1e-7", "1"),
                       "learning_rate": _continuous("1e-5", "1"), "mini_batch_size": _integer("100", "5000"),
                       "use_bias": {"Kind": "Categorical", "Values": ["True", "False"]},
                       "positive_example_weight_mult": _continuous("1e-5", "1e5")},
    "kmeans": {"epochs": _integer("1", "10"), "extra_center_factor": _integer("4", "10"),
               "init_method": {"Kind": "Categorical", "Values": ["kmeans++", "random"]},
               "mini_batch_size": _integer("3000", "15000")},
}


def autotune(parameter_ranges: dict, repository: str) -> tuple[dict, dict[str, str]]:
    """(ParameterRanges with each eligible AutoParameter's range added, the static values of
    the others): see the module's docstring."""
    recommended = RECOMMENDED_RANGES.get(repository, {})
    ranges = {kind: list(parameter_ranges.get(kind, [])) for kind in
              ("IntegerParameterRanges", "ContinuousParameterRanges", "CategoricalParameterRanges")}
    static = {}
    for auto in parameter_ranges.get("AutoParameters", []):
        chosen = recommended.get(auto["Name"])
        if chosen is None:
            static[auto["Name"]] = auto["ValueHint"]
            continue
        entry = {"Name": auto["Name"], **{k: v for k, v in chosen.items() if k != "Kind"}}
        ranges[f"{chosen['Kind']}ParameterRanges"].append(entry)
    return ranges, static


def strategy(name: str, ranges: list[Range], seed: int | None = None) -> RandomSearch:
    return {"Bayesian": BayesianSearch, "Grid": GridSearch}.get(name, RandomSearch)(ranges, seed)
