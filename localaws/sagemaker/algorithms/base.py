"""What every emulated built-in algorithm shares: channels, hyperparameters, errors.

An algorithm module provides

    REPOSITORIES: tuple[str, ...]   ECR repositories it answers for, e.g. ("linear-learner",)
    HYPERPARAMETERS: dict[str, Hyperparameter] | None   (None: the raw strings are passed on,
                     as framework containers such as TensorFlow script mode want them)
    ALIASES, HINTS (optional): alternative hyperparameter names; why a known name is refused
    train(channels: dict[str, Channel], hp: dict, model_dir: Path, log: Log,
          context: TrainingContext) -> dict[str, float]   final metrics, e.g. {"test:mse": 1.2}
    load(model_dir: Path[, environment: dict]) -> a model with .predict(body, content_type,
                             accept) -> (bytes, str) and .default_accept; `environment` is the
                             container's (the model's Environment, plus SAGEMAKER_BATCH=true
                             under batch transform)

and knows nothing of HTTP or the job bookkeeping around it, so it can be tested alone.
Keep heavy imports (TensorFlow, xgboost ...) inside functions: every module is imported
when localaws starts, to read its REPOSITORIES.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable  # noqa: F401

Log = Callable[[str], None]
REQUIRED = object()


class ClientError(Exception):
    """A problem with the user's data, hyperparameters or request (AWS says "ClientError")."""


class Stopped(Exception):
    """The job must end now: StopTrainingJob ("Stopped") or MaxRuntimeInSeconds reached
    ("MaxRuntimeExceeded"). Algorithms check between rounds, epochs or batches."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _never() -> str | None:
    return None


def model_file(model_dir: Path, name: str, algorithm: str) -> Path:
    """The algorithm's file in an unpacked model.tar.gz, or a ClientError saying it is missing."""
    path = Path(model_dir) / name
    if not path.exists():
        raise ClientError(f"model.tar.gz has no {name}: was it trained by {algorithm}?")
    return path


@dataclass
class Channel:
    name: str
    path: Path
    content_type: str | None = None
    files: list[Path] = field(default_factory=list)

    def data_files(self) -> list[Path]:
        found = self.files or sorted(p for p in self.path.rglob("*") if p.is_file())
        found = [p for p in found if not p.name.startswith(".")]
        if not found:
            raise ClientError(f"channel '{self.name}' has no data files")
        return found


@dataclass
class TrainingContext:
    """What a job offers an algorithm beyond its data: for framework containers mostly."""
    job_name: str
    s3: Any = None                   # localaws.storage.S3, e.g. to fetch script-mode source code
    output_dir: Path | None = None   # files left here become <output>/<job>/output/output.tar.gz
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    environment: dict = field(default_factory=dict)
    image: str = ""                  # the training image URI; its tag is the container version
    stop_reason: Callable[[], str | None] = _never  # "Stopped" / "MaxRuntimeExceeded" once it must end

    def check_stop(self) -> None:
        reason = self.stop_reason()
        if reason:
            raise Stopped(reason)


def check_stop(context) -> None:
    """An algorithm's check between two steps of its work (no-op without a job context)."""
    if context is not None:
        context.check_stop()


@dataclass
class Hyperparameter:
    kind: type | str  # int, float, bool, str; or "auto-int"/"auto-float" for values that may be 'auto'
    default: Any = REQUIRED
    choices: Iterable[str] | None = None
    low: float | None = None
    high: float | None = None

    def parse(self, name: str, raw: str) -> Any:
        text = str(raw).strip()
        kind = self.kind
        if isinstance(kind, str) and kind.startswith("auto-"):
            if text.lower() == "auto":
                return "auto"
            kind = {"auto-int": int, "auto-float": float}[kind]
        try:
            if kind is bool:
                if text.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(text)
                value: Any = text.lower() in ("true", "1")
            elif kind is int:
                value = int(float(text)) if float(text).is_integer() else int(text)
            elif kind is float:
                value = float(text)
            else:
                value = text
        except ValueError:
            raise ClientError(f"hyperparameter '{name}' must be {getattr(kind, '__name__', kind)}, got {raw!r}")
        if self.choices is not None and value not in self.choices:
            raise ClientError(f"hyperparameter '{name}' must be one of {sorted(self.choices)}, got {raw!r}")
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            raise ClientError(f"hyperparameter '{name}' must be in [{self.low}, {self.high}], got {raw!r}")
        return value


def parse_hyperparameters(spec: dict[str, Hyperparameter], raw: dict[str, str],
                          aliases: dict[str, str] | None = None,
                          hints: dict[str, str] | None = None) -> dict[str, Any]:
    """Typed hyperparameters with defaults, or ClientError for unknown/missing/invalid ones.

    Names SageMaker reserves (`_tuning_objective_metric` ...) pass through unchecked;
    `aliases` maps alternative names to the canonical ones (XGBoost's learning_rate -> eta);
    `hints` explains why a well-known name is refused."""
    aliases, hints = aliases or {}, hints or {}
    reserved = {k: v for k, v in (raw or {}).items() if k.startswith("_")}
    given = {aliases.get(k, k): v for k, v in (raw or {}).items() if not k.startswith("_")}
    unknown = sorted(set(given) - set(spec))
    if unknown:
        why = "; ".join(hints[n] for n in unknown if n in hints)
        raise ClientError(f"unknown hyperparameter(s) {unknown}{': ' + why if why else ''}; "
                          f"this algorithm takes {sorted(spec)}")
    missing = sorted(n for n, h in spec.items() if h.default is REQUIRED and n not in given)
    if missing:
        raise ClientError(f"missing required hyperparameter(s): {', '.join(missing)}")
    return {**{n: h.parse(n, given[n]) if n in given else h.default for n, h in spec.items()}, **reserved}


def media_type(content_type: str | None, default: str) -> str:
    """'text/csv; label_size=1' -> 'text/csv'."""
    return (content_type or default).split(";")[0].strip().lower()
