"""What every emulated built-in algorithm shares: channels, hyperparameters, errors, and
the contract of an algorithm module (`TrainingAlgorithm`, `ServingAlgorithm` below).

An algorithm module provides

    REPOSITORIES: tuple[str, ...]   ECR repositories it answers for, e.g. ("linear-learner",)
    HYPERPARAMETERS: dict[str, Hyperparameter] | None   (None: the raw strings are passed on,
                     as framework containers such as TensorFlow script mode want them)
    ALIASES, HINTS (optional): alternative hyperparameter names; why a known name is refused
    WORDING (optional): how its container words a refused hyperparameter (FIRST_PARTY, TOOLKIT)
    TRAINING_INSTANCES (optional): "gpu" when the algorithm trains on GPU instances only
    train(channels: dict[str, Channel], hp: dict, model_dir: Path, log: Log,
          context: TrainingContext) -> dict[str, float]   final metrics, e.g. {"test:mse": 1.2}
    train_script (optional): the same, for a framework estimator's entry point (script mode)
    load(model_dir: Path[, environment: dict][, s3][, image: str]) -> a `Predictor`; `environment`
                             is the container's (the model's Environment, plus SAGEMAKER_BATCH=true
                             under batch transform), `image` the model's image URI. A predictor's
                             predict() may also take `custom_attributes` (InvokeEndpoint's
                             CustomAttributes), and it may have a close() for what it started

A training image's module satisfies `TrainingAlgorithm`, a serving image's `ServingAlgorithm`,
a built-in algorithm's both (a module satisfies a Protocol by its attributes, PEP 544);
algorithms/__init__.py skips a module that satisfies neither. A module knows nothing of HTTP
or the job bookkeeping around it, so it can be tested alone. Keep heavy imports (TensorFlow,
xgboost ...) inside functions: every module is imported when localaws starts, to read its
REPOSITORIES.
"""
from __future__ import annotations

import difflib
import math
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, runtime_checkable  # noqa: F401

Log = Callable[[str], None]
REQUIRED = object()


class ClientError(Exception):
    """A problem with the user's data, hyperparameters or request (AWS says "ClientError").

    `status` is the HTTP status a serving container answers it with (InvokeEndpoint wraps it
    in a ModelError as OriginalStatusCode): 400 unless the container says otherwise."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class Stopped(Exception):
    """The job must end now: StopTrainingJob ("Stopped") or MaxRuntimeInSeconds reached
    ("MaxRuntimeExceeded"). Algorithms check between rounds, epochs or batches."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ProcessGroups:
    """Every process group an emulator's jobs started (a script-mode script and its children),
    so that the emulator can end them all when it stops: nothing a job started outlives it."""

    def __init__(self):
        self._lock = threading.Lock()
        self._groups: set[int] = set()

    def add(self, pgid: int) -> None:
        with self._lock:
            self._groups.add(pgid)

    def discard(self, pgid: int) -> None:
        with self._lock:
            self._groups.discard(pgid)

    def signal(self, pgid: int, signum: int) -> None:
        try:
            os.killpg(pgid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def end_all(self, grace: float = 1.0) -> None:
        """SIGTERM to each group, then SIGKILL to whatever is left after `grace` seconds."""
        with self._lock:
            groups = list(self._groups)
        for pgid in groups:
            self.signal(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while groups and time.monotonic() < deadline:
            groups = [g for g in groups if _group_alive(g)]
            time.sleep(0.05)
        for pgid in groups:
            self.signal(pgid, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


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
    processes: ProcessGroups = field(default_factory=ProcessGroups)  # the emulator's, to end them all at stop

    def check_stop(self) -> None:
        reason = self.stop_reason()
        if reason:
            raise Stopped(reason)


def check_stop(context) -> None:
    """An algorithm's check between two steps of its work (no-op without a job context)."""
    if context is not None:
        context.check_stop()


class FirstPartyWording:
    """How Amazon's own algorithms (linear-learner, k-means, factorization machines, BlazingText,
    image classification) word a refused hyperparameter. They validate against a JSON schema and
    report its errors as, e.g., "No value(s) were specified for 'mini_batch_size' which are
    required hyperparameter(s) (caused by ValidationError)" (a real FailureReason, quoted in
    aws/sagemaker-python-sdk#132). The other sentences follow the same validator's wording as
    Amazon published it in its vw_serving package (ConfigValidator.pretty_validation_message),
    including its "greater than" for an inclusive minimum. The values are the strings the job
    was given, so "nan" and "inf" are not numbers here (a schema pattern does not match them)."""
    numbers_may_be_non_finite = False
    missing_first = False

    @staticmethod
    def _caused(text: str) -> str:
        return f"{text} (caused by ValidationError)"

    def missing(self, names: list[str]) -> str:
        quoted = ", ".join(f"'{n}'" for n in names)
        return self._caused(f"No value(s) were specified for {quoted} which are required hyperparameter(s)")

    def unknown(self, names: list[str]) -> str:
        quoted = ", ".join(f"'{n}'" for n in names)
        verb = "was" if len(names) == 1 else "were"
        return self._caused(f"Additional hyperparameters are not allowed ({quoted} {verb} unexpected)")

    def not_a_choice(self, name: str, raw: str, choices: Iterable[str]) -> str:
        accepted = ", ".join(f"'{c}'" for c in sorted(choices))
        return self._caused(f"The value '{raw}' is not valid for the '{name}' hyperparameter "
                            f"which accepts one of the following: {accepted}")

    def not_a_number(self, name: str, raw: str, spec: "Hyperparameter", value: Any = None) -> str:
        noun = "an integer" if spec.number_kind is int else "a number"
        if spec.low is not None and spec.high is not None:
            expected = f"{noun} between {_plain(spec.low)} and {_plain(spec.high)}"
        elif spec.low is not None:
            expected = f"{noun} greater than {_plain(spec.low)}"
        elif spec.high is not None:
            expected = f"{noun} less than {_plain(spec.high)}"
        else:
            expected = noun
        if spec.may_be_auto:
            expected = f"one of the following: 'auto'; or {expected}"
        return self._caused(f"The value '{raw}' is not valid for the '{name}' hyperparameter which expects {expected}")

    out_of_range = not_a_number


class ToolkitWording:
    """How the XGBoost container words it: its sagemaker-algorithm-toolkit
    (aws/sagemaker-xgboost-container, src/sagemaker_algorithm_toolkit/hyperparameter_validation.py).
    It parses with int() and float(), so "1.0" is not an integer there, and a NaN passes its
    interval checks (every comparison with NaN is false) and reaches XGBoost, as here; so does
    "inf" where the interval is open above."""
    numbers_may_be_non_finite = True
    missing_first = True  # its validate() fills in required names before it looks for extraneous ones

    def missing(self, names: list[str]) -> str:
        return f"Missing required hyperparameter: {names[0]}"

    def unknown(self, names: list[str]) -> str:
        return f"Extraneous hyperparameter found: {names[0]}"

    def not_a_choice(self, name: str, raw: str, choices: Iterable[str]) -> str:
        return f"Hyperparameter {name}: {raw} is not in {sorted(choices)}"

    def not_a_number(self, name: str, raw: str, spec: "Hyperparameter", value: Any = None) -> str:
        return f"Hyperparameter {name}: could not parse value"

    def out_of_range(self, name: str, raw: str, spec: "Hyperparameter", value: Any = None) -> str:
        low = "(-inf" if spec.low is None else f"[{_plain(spec.low)}"
        high = "+inf)" if spec.high is None else f"{_plain(spec.high)}]"
        return f"Hyperparameter {name}: {value} is not in {low}, {high}"


FIRST_PARTY, TOOLKIT = FirstPartyWording(), ToolkitWording()


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


# Boolean-like choices: the SDK sends Python's str(True) == "True"; the containers accept either case.
_BOOLEAN_WORDS = {"true", "false"}


@dataclass
class Hyperparameter:
    kind: type | str  # int, float, bool, str; or "auto-int"/"auto-float" for values that may be 'auto'
    default: Any = REQUIRED
    choices: Iterable[str] | None = None
    low: float | None = None
    high: float | None = None

    @property
    def may_be_auto(self) -> bool:
        return isinstance(self.kind, str) and self.kind.startswith("auto-")

    @property
    def number_kind(self) -> type | None:
        kind = {"auto-int": int, "auto-float": float}.get(self.kind, self.kind) if self.may_be_auto else self.kind
        return kind if kind in (int, float) else None

    def parse(self, name: str, raw: str, wording: Any = FIRST_PARTY) -> Any:
        text = str(raw).strip()
        if self.may_be_auto and text.lower() == "auto":
            return "auto"
        kind = self.number_kind
        if self.kind is bool:
            if text.lower() not in ("true", "false", "1", "0"):
                raise ClientError(wording.not_a_choice(name, text, ("true", "false")))
            return text.lower() in ("true", "1")
        if kind is None:  # a string
            value = text.lower() if self.choices and text.lower() in _BOOLEAN_WORDS else text
            if self.choices is not None and value not in self.choices:
                raise ClientError(wording.not_a_choice(name, text, self.choices))
            return value
        try:
            number = float(text)
            if kind is int:
                value = int(text)
            elif math.isfinite(number) or wording.numbers_may_be_non_finite:
                value = number
            else:
                raise ValueError(text)
        except ValueError:
            raise ClientError(wording.not_a_number(name, text, self)) from None
        if self.choices is not None and value not in self.choices:
            raise ClientError(wording.not_a_choice(name, text, self.choices))
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            raise ClientError(wording.out_of_range(name, text, self, value))
        return value


def parse_hyperparameters(spec: dict[str, Hyperparameter], raw: dict[str, str],
                          aliases: dict[str, str] | None = None,
                          hints: dict[str, str] | None = None, wording: Any = FIRST_PARTY) -> dict[str, Any]:
    """Typed hyperparameters with defaults, or ClientError for unknown/missing/invalid ones,
    worded as the algorithm's container words them (FIRST_PARTY or TOOLKIT).

    Names SageMaker reserves (`_tuning_objective_metric` ...) pass through unchecked;
    `aliases` maps alternative names to the canonical ones (XGBoost's learning_rate -> eta);
    `hints` explains why a well-known name is refused. A misspelt name also gets the nearest
    known one (localaws's addition to AWS's sentence)."""
    aliases, hints = aliases or {}, hints or {}
    reserved = {k: v for k, v in (raw or {}).items() if k.startswith("_")}
    given = {aliases.get(k, k): v for k, v in (raw or {}).items() if not k.startswith("_")}
    unknown = sorted(set(given) - set(spec))
    missing = sorted(n for n, h in spec.items() if h.default is REQUIRED and n not in given)
    if missing and wording.missing_first:
        raise ClientError(wording.missing(missing))
    if unknown:
        why = [hints[n] for n in unknown if n in hints]
        why += [f"did you mean '{close[0]}'?" for n in unknown if n not in hints
                 for close in [difflib.get_close_matches(n, spec, n=1)] if close]
        raise ClientError(wording.unknown(unknown) + "".join(f"; {w}" for w in why))
    if missing:
        raise ClientError(wording.missing(missing))
    return {**{n: h.parse(n, given[n], wording) if n in given else h.default for n, h in spec.items()}, **reserved}


def media_type(content_type: str | None, default: str) -> str:
    """'text/csv; label_size=1' -> 'text/csv'."""
    return (content_type or default).split(";")[0].strip().lower()


class Predictor(Protocol):
    """A loaded model, as an endpoint or a transform job uses it."""

    default_accept: str

    def predict(self, body: bytes, content_type: str | None, accept: str | None) -> tuple[bytes, str]: ...


@runtime_checkable
class TrainingAlgorithm(Protocol):
    """A module that trains: a built-in algorithm's, or a framework's training image."""

    REPOSITORIES: tuple[str, ...]
    HYPERPARAMETERS: dict[str, Hyperparameter] | None

    def train(self, channels: dict[str, Channel], hp: dict, model_dir: Path, log: Log,
              context: TrainingContext | None = None) -> dict[str, float] | None: ...


@runtime_checkable
class ServingAlgorithm(Protocol):
    """A module that hosts a model.tar.gz: a built-in algorithm's, or a serving image's."""

    REPOSITORIES: tuple[str, ...]

    def load(self, model_dir: Path) -> Predictor: ...
