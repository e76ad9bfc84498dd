"""SageMaker's built-in XGBoost, computed by the xgboost library itself — the same library the
AWS containers run (container versions 0.90-1 to 3.0-5; this repository pins xgboost 2.1).

Model files are written in the format the requested container writes: the 1.x containers
call `save_model("xgboost-model")` with XGBoost 1.x, which, for a name without a `.json` or
`.ubj` extension, writes the legacy binary format (aws/sagemaker-xgboost-container
`algorithm_mode/train.py`; xgboost 1.7 `src/c_api/c_api.cc`); containers 2.x and 3.x write
UBJSON. xgboost 2.1 and 3.0 read both; 3.1 and newer no longer read the binary format
(xgboost `doc/changes/v3.1.0.rst`), so a reader who opens a 1.7-1 model locally needs
xgboost < 3.1, as SageMaker Distribution's 2.1.4 is.

As in the container's algorithm mode: hyperparameters are validated against its list
(`silent`, gone since XGBoost 1.0, is rejected: use `verbosity`); channels `train` and
optional `validation` in text/csv (label first, optional weight column with
`csv_weights=1`), libsvm or RecordIO-protobuf; each round's `train-*`/`validation-*`
metrics go to the log and the last round's become the job's metrics (`validation:auc` …),
including the tuning objective a tuning job asks for; the model is saved as `xgboost-model`,
which `xgboost.Booster().load_model()` reads. Requests in libsvm are read as the container
reads them, with or without a label. Endpoints answer as their image's version does: 1.2-2
and later a score per line in text/csv and `{"predictions": [{"score"}]}` in JSON (Accept
outside its four types: 406), older images the scores joined by commas; batch transform one
score per line; selectable inference output (SAGEMAKER_INFERENCE_OUTPUT) for json,
jsonlines and csv. Models written by the old containers' own xgboost (0.90's protocol-2
pickles, binary save_model files) are hosted too.

Script mode (`sagemaker.xgboost.XGBoost(entry_point=...)`): when the hyperparameters name
`sagemaker_program`, the container runs the user's script instead of the algorithm, through
the training toolkit (sagemaker-xgboost-container `training.py`: framework mode), and
localaws does the same with script_mode.py and the xgboost installed here. An endpoint for
such a model (SAGEMAKER_PROGRAM in its environment) imports the entry point and serves it
with its model_fn and its other handlers or the container's defaults (FrameworkModel).
"""
from __future__ import annotations

import io
import json
import logging
import pickle
import tarfile
from pathlib import Path
from typing import Callable

import numpy as np

from . import formats, script_mode
from .base import TOOLKIT, Channel, ClientError, Hyperparameter as H, Log, media_type, check_stop
from .user_code import UserCode

REPOSITORIES = ("sagemaker-xgboost", "xgboost")
MODEL_FILE = "xgboost-model"
LIBSVM = "text/libsvm"
SELECTABLE_ACCEPTS = (formats.JSON, formats.JSONLINES, formats.RECORDIO, formats.CSV)
_CLASSIFIER_KEYS = ("predicted_label", "labels", "raw_score", "raw_scores")
SELECTABLE_KEYS = {  # the objectives and keys selectable inference serves (serve_utils.VALID_OBJECTIVES)
    **{o: ("predicted_score",) for o in ("reg:squarederror", "reg:logistic", "reg:gamma", "reg:tweedie")},
    **{o: _CLASSIFIER_KEYS + ("probability", "probabilities") for o in ("binary:logistic", "multi:softprob")},
    **{o: _CLASSIFIER_KEYS for o in ("binary:logitraw", "binary:hinge", "multi:softmax")},
}
OBJECTIVES = {
    "binary:logistic", "binary:logitraw", "binary:hinge", "count:poisson", "multi:softmax",
    "multi:softprob", "rank:pairwise", "rank:ndcg", "rank:map", "reg:linear", "reg:squarederror",
    "reg:logistic", "reg:gamma", "reg:pseudohubererror", "reg:squaredlogerror", "reg:tweedie",
    "reg:absoluteerror", "survival:cox", "survival:aft"}
ALIASES = {"learning_rate": "eta", "min_split_loss": "gamma", "reg_lambda": "lambda", "reg_alpha": "alpha"}
WORDING = TOOLKIT  # the container validates with sagemaker-algorithm-toolkit
HINTS = {"silent": "XGBoost 1.0 replaced 'silent' with 'verbosity' (0 = silent)",
         # without sagemaker_program the container runs its algorithm, which has no such hyperparameter
         "sagemaker_submit_directory": "script mode needs sagemaker_program (the entry point) as well"}
HANDLERS = ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn")


def _unit() -> H:
    return H(float, None, low=0.0, high=1.0)


HYPERPARAMETERS = {
    "num_round": H(int, low=1),
    "objective": H(str, "reg:squarederror", choices=OBJECTIVES),
    "num_class": H(int, None, low=2),
    "eta": _unit(), "gamma": H(float, None, low=0), "max_depth": H(int, None, low=0),
    "min_child_weight": H(float, None, low=0), "max_delta_step": H(float, None, low=0),
    "subsample": _unit(), "colsample_bytree": _unit(),
    "colsample_bylevel": _unit(), "colsample_bynode": _unit(),
    "lambda": H(float, None, low=0), "alpha": H(float, None, low=0),
    "tree_method": H(str, None, choices={"auto", "exact", "approx", "hist", "gpu_hist"}),
    "booster": H(str, None, choices={"gbtree", "gblinear", "dart"}),
    "grow_policy": H(str, None, choices={"depthwise", "lossguide"}),
    "max_leaves": H(int, None, low=0), "max_bin": H(int, None, low=2),
    "scale_pos_weight": H(float, None, low=0), "base_score": H(float, None),
    "sketch_eps": _unit(), "num_parallel_tree": H(int, None, low=1),
    "sample_type": H(str, None, choices={"uniform", "weighted"}),
    "normalize_type": H(str, None, choices={"tree", "forest"}),
    "rate_drop": _unit(), "one_drop": H(int, None, low=0, high=1), "skip_drop": _unit(),
    "tweedie_variance_power": H(float, None, low=1, high=2),
    "eval_metric": H(str, None), "early_stopping_rounds": H(int, None, low=1),
    "csv_weights": H(int, 0, low=0, high=1), "seed": H(int, None), "nthread": H(int, None, low=1),
    "verbosity": H(int, None, low=0, high=3), "monotone_constraints": H(str, None),
    "interaction_constraints": H(str, None), "updater": H(str, None), "process_type": H(str, None),
    "refresh_leaf": H(int, None, low=0, high=1), "lambda_bias": _unit(),
    "save_model_on_termination": H(str, None, choices={"true", "false"}),
    "sampling_method": H(str, None, choices={"uniform", "gradient_based"}),
    "max_cat_to_onehot": H(int, None, low=1),
}


# ---------------------------------------------------------------- reading data
def content_kind(content_type: str | None) -> str:
    """A channel's ContentType as the container reads it (sagemaker-xgboost-container,
    data_utils.get_content_type): none is libsvm; 'libsvm', 'text/libsvm', 'text/x-libsvm';
    'csv', 'text/csv' (label_size=1 only); 'parquet', 'application/x-parquet';
    'recordio-protobuf', 'application/x-recordio-protobuf'."""
    if content_type is None:
        return LIBSVM
    text = content_type.lower()
    if text in ("libsvm", LIBSVM, "text/x-libsvm"):
        return LIBSVM
    if "csv" in text:
        kind, _, parameters = text.partition(";")
        label_size = dict(p.strip().split("=", 1) for p in parameters.split(";") if "=" in p).get("label_size")
        if kind.strip() in ("csv", formats.CSV) and label_size in (None, "1"):
            return formats.CSV
    if text in ("recordio-protobuf", formats.RECORDIO):
        return formats.RECORDIO
    if text in ("parquet", "application/x-parquet"):
        raise ClientError(f"{content_type} training data is not emulated offline: use text/csv or text/libsvm")
    raise ClientError(f"{content_type} is not an accepted ContentType: 'csv', 'libsvm', 'parquet', "
                      "'recordio-protobuf', 'text/csv', 'text/libsvm', 'text/x-libsvm', 'application/x-parquet', "
                      "'application/x-recordio-protobuf'.")


def _read(channel: Channel, csv_weights: bool):
    """(features, labels, weights) of a channel in its declared format."""
    kind = content_kind(channel.content_type)
    files = channel.data_files()
    if kind == formats.CSV:
        matrix = formats.read_csv_matrix(files)
        start = 2 if csv_weights else 1
        if matrix.shape[1] <= start:
            raise ClientError(f"channel '{channel.name}': CSV needs the label first, then features")
        return matrix[:, start:], matrix[:, 0], (matrix[:, 1] if csv_weights else None)
    if kind == LIBSVM:
        from scipy import sparse
        from sklearn.datasets import load_svmlight_files

        try:  # every file gets the widest file's number of features
            parts = load_svmlight_files([str(f) for f in files], zero_based=True)
        except ValueError as err:
            raise ClientError(f"channel '{channel.name}': not libsvm data ({err})") from None
        return sparse.vstack(parts[0::2]).tocsr(), np.concatenate(parts[1::2]), None
    X, y = formats.read_channel(channel, default=formats.RECORDIO)
    return X, y, None


# ---------------------------------------------------------------- training
def _params(hp: dict) -> dict:
    """xgboost's own parameters from the validated hyperparameters."""
    skip = {"num_round", "early_stopping_rounds", "csv_weights", "eval_metric", "save_model_on_termination"}
    params = {k: v for k, v in hp.items() if v is not None and k not in skip and not k.startswith("_")}
    if hp["objective"] in ("multi:softmax", "multi:softprob") and not hp["num_class"]:
        raise ClientError("Require input for parameter 'num_class' for multi-classification")
    if hp["objective"] == "reg:linear":  # the old name, still accepted by the container
        params["objective"] = "reg:squarederror"
    return params


def _eval_metrics(hp: dict) -> list[str]:
    """The user's eval_metric plus the metric a tuning job optimises (e.g. validation:auc)."""
    metrics = [m.strip() for m in (hp["eval_metric"] or "").split(",") if m.strip()]
    objective = hp.get("_tuning_objective_metric")
    if objective:
        name = objective.split(":", 1)[-1]
        if name not in metrics:
            metrics.append(name)
    if any(m == "auc" for m in metrics) and not hp["objective"].startswith(("binary:", "rank:")):
        raise ClientError("Metric 'auc' can only be applied for classification and ranking problems.")
    return metrics


def train(channels: dict[str, Channel], hp: dict, model_dir: Path, log: Log, context=None) -> dict[str, float]:
    import xgboost as xgb

    if "train" not in channels:
        raise ClientError("xgboost needs a 'train' channel")
    params = _params(hp)
    metrics = _eval_metrics(hp)
    if metrics:
        params["eval_metric"] = metrics
    sets = []
    for name in ("train", "validation"):
        if name in channels:
            X, y, w = _read(channels[name], bool(hp["csv_weights"]))
            log(f"[{name}] {X.shape[0]} rows, {X.shape[1]} features")
            sets.append((xgb.DMatrix(X, label=y, weight=w), name))
    history: dict = {}

    class LogEachRound(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            # as the container's lines reach CloudWatch, the tab written #011: AWS's metric
            # regexes for XGBoost (metric_definitions.py) look for it
            log(f"[{epoch}]" + "".join(f"#011{data}-{metric}:{values[-1]:.5f}"
                                       for data, per_metric in evals_log.items()
                                       for metric, values in per_metric.items()))
            return context is not None and context.stop_reason() is not None  # True ends training

    try:
        booster = xgb.train(params, sets[0][0], num_boost_round=hp["num_round"], evals=sets,
                            early_stopping_rounds=hp["early_stopping_rounds"], evals_result=history,
                            callbacks=[LogEachRound()], verbose_eval=False)
    except xgb.core.XGBoostError as err:
        raise ClientError(str(err).strip().splitlines()[0]) from None
    check_stop(context)
    model_dir.mkdir(parents=True, exist_ok=True)
    save_as_container_does(booster, model_dir / MODEL_FILE, getattr(context, "image", ""))
    return {f"{data}:{metric}": float(values[-1])
            for data, per_metric in history.items() for metric, values in per_metric.items()}


def container_major(image_uri: str) -> int | None:
    """1 for `.../sagemaker-xgboost:1.7-1`, 3 for `:3.0-5`; None for an untagged or `:latest` image."""
    tag = image_uri.rsplit(":", 1)[-1] if ":" in image_uri.rsplit("/", 1)[-1] else ""
    head = tag.split(".", 1)[0].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def save_as_container_does(booster, path: Path, image_uri: str) -> None:
    """Legacy binary for the 0.90 and 1.x containers, UBJSON (no extension) for 2.x and 3.x."""
    import xgboost as xgb

    major = container_major(image_uri)
    with xgb.config_context(verbosity=0):  # silences xgboost's format warnings
        if major is not None and major < 2:
            legacy = path.with_name(path.name + ".deprecated")  # xgboost 2.x's name for that format
            booster.save_model(str(legacy))
            legacy.rename(path)
        else:
            booster.save_model(str(path))


# ---------------------------------------------------------------- serving
def libsvm_request(body: bytes, n_features: int):
    """A libsvm request as the container reads it (algorithm_mode/serve_utils.py
    `_get_sparse_matrix_from_libsvm`): each line is a row, each space-separated token with a
    colon is `index:value` with the index as the column (as in training), any other token (the
    label, when the line has one) is ignored. So rows with or without a label both work."""
    from scipy import sparse

    lines = body.decode("utf-8", errors="replace").strip().split("\n")
    rows, columns, values = [], [], []
    try:
        for row, line in enumerate(lines):
            for token in line.split(" "):
                if ":" in token:
                    index, value = token.split(":")[:2]
                    rows.append(row)
                    columns.append(int(index))
                    values.append(float(value))
    except ValueError as err:
        raise ClientError(f"Loading libsvm data failed: {err}") from None
    if columns and max(columns) >= n_features:
        raise ClientError(f"Loading libsvm data failed: feature index {max(columns)} is beyond the "
                          f"{n_features} features of the trained model")
    if columns and min(columns) < 0:
        raise ClientError(f"Loading libsvm data failed: negative feature index {min(columns)}")
    return sparse.csr_matrix((values, (rows, columns)), shape=(len(lines), n_features))


def container_version(image_uri: str) -> tuple[int, ...] | None:
    """'…/sagemaker-xgboost:1.7-1' -> (1, 7, 1); None for tags that name no version ('latest', '1')."""
    tag = image_uri.rsplit(":", 1)[-1] if ":" in image_uri.rsplit("/", 1)[-1] else ""
    parts = tag.split("-cpu")[0].replace("-", ".").split(".")
    return tuple(int(p) for p in parts) if len(parts) >= 2 and all(p.isdigit() for p in parts) else None


# Accept types the algorithm-mode server takes (serve.py SUPPORTED_ACCEPTS, 1.2-2 and later)
SUPPORTED_ACCEPTS = (formats.JSON, formats.JSONLINES, formats.RECORDIO, formats.CSV)


class XGBoostModel:
    default_accept = formats.CSV

    def __init__(self, booster, environment: dict, version: tuple[int, ...] | None = None):
        # containers 1.2-2 and later answer as sagemaker-xgboost-container's algorithm_mode/serve.py
        # invocations(): Accept parsed (406 outside SUPPORTED_ACCEPTS), JSON {"predictions": [{"score"}]},
        # CSV one score per line; older ones (0.90, 1.0-1, 1.2-1, xgboost:1) join the scores with commas
        self.current = version is not None and version >= (1, 2, 2)
        self.booster = booster
        self.batch = str(environment.get("SAGEMAKER_BATCH", "")).lower() == "true"
        self.selected = [k.strip().lower() for k in environment.get("SAGEMAKER_INFERENCE_OUTPUT", "").split(",") if k.strip()]
        self.selected_accept = environment.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", formats.CSV)
        config = json.loads(booster.save_config())["learner"]
        self.objective = config["objective"]["name"]
        self.num_class = int(config["learner_model_param"].get("num_class", 0) or 0)

    def _matrix(self, body: bytes, content_type: str | None):
        import xgboost as xgb

        kind = media_type(content_type, formats.CSV)
        expected = self.booster.num_features()
        if kind in (LIBSVM, "text/x-libsvm"):
            X = libsvm_request(body, expected)
            formats.check_finite(X, allow_nan=True)
        elif kind in (formats.CSV, formats.RECORDIO, "application/x-recordio"):
            X = formats.parse_request(body, kind, allow_nan=True)  # NaN: a missing value, as in training
            if X.shape[1] != expected:
                raise ClientError(f"Feature size of {kind} inference data {X.shape[1]} is not consistent "
                                  f"with feature size of trained model {expected}.")
        else:
            raise ClientError(f"Content-type {kind} not supported. Supported content-type is text/csv, "
                              "text/libsvm, application/x-recordio-protobuf", status=415)
        return xgb.DMatrix(X)

    def predict(self, body: bytes, content_type: str | None, accept: str | None) -> tuple[bytes, str]:
        predictions = self.booster.predict(self._matrix(body, content_type))
        if self.selected:
            return self._selectable(predictions, accept)
        values = [str(v) for v in predictions.tolist()]
        if self.batch:
            return ("\n".join(values) + "\n").encode(), formats.CSV
        if not self.current:
            return ",".join(values).encode(), formats.CSV
        kind = self._accept(accept, SUPPORTED_ACCEPTS)
        if kind == formats.JSON:  # serve_utils.encode_predictions_as_json
            return json.dumps({"predictions": [{"score": v} for v in predictions.tolist()]}).encode(), formats.JSON
        if kind == formats.CSV:  # sagemaker-containers' encoders.array_to_csv: a row per score
            return ("\n".join(values) + "\n").encode(), formats.CSV
        # the framework's encoders know JSON, CSV and NPY only: the container fails with a 500
        raise ClientError(f"Content type {kind} is not supported by this framework.", status=500)

    def _accept(self, accept: str | None, supported: tuple[str, ...]) -> str:
        """serve.py _parse_accept: none or */* is SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT (default
        text/csv); a type outside `supported` is a 406."""
        kind = media_type(accept if accept and accept != "*/*" else None, self.selected_accept)
        if kind not in supported:
            raise ClientError(f"Accept type {kind} is not supported. Please use supported accept types: "
                              f"{list(supported)}.", status=406)
        return kind

    def _selectable(self, predictions, accept) -> tuple[bytes, str]:
        """Selectable inference output in the Accept type, as sagemaker-xgboost-container's
        algorithm_mode (serve.py, serve_utils.py) makes it. Without SAGEMAKER_INFERENCE_OUTPUT
        the container answers text/csv whatever Accept says; with it, an Accept outside its four
        types is a 406, and a selected key the objective cannot give is NaN, written by
        json.dumps as the bare token NaN (which strict JSON parsers refuse; Python's accepts it)."""
        kind = self._accept(accept, SELECTABLE_ACCEPTS)
        if self.objective not in SELECTABLE_KEYS:
            raise RuntimeError(f"Objective `{self.objective}` unsupported for selectable inference predictions.")
        rows = [self._select(np.asarray(p)) for p in predictions]
        if kind == formats.CSV:
            lines = [",".join(f'"{row[k]}"' if isinstance(row[k], list) else str(row[k]) for k in self.selected)
                     for row in rows]
            return ("\n".join(lines) + ("\n" if self.batch else "")).encode(), formats.CSV
        if kind == formats.JSON:
            return json.dumps({"predictions": rows}).encode(), formats.JSON
        if kind == formats.JSONLINES:
            return "".join(json.dumps(row) + "\n" for row in rows).encode(), formats.JSONLINES
        return formats.encode_predictions(rows, kind)

    def _select(self, raw: np.ndarray) -> dict:
        """One prediction's selected keys; those the objective cannot give are NaN."""
        objective, valid = self.objective, SELECTABLE_KEYS[self.objective]
        softprob = objective == "multi:softprob"
        top = float(np.max(raw))
        label = int(np.argmax(raw)) if softprob else int(raw > 0.5) if objective == "binary:logistic" else \
            int(raw > 0) if objective == "binary:logitraw" else raw.item()
        values = {
            "predicted_label": label,
            "labels": [0, 1] if objective.startswith("binary:") else
                      list(range(self.num_class)) if self.num_class else float("nan"),
            "probability": top if softprob else float(raw),
            "probabilities": raw.tolist() if softprob else [1.0 - float(raw), float(raw)],
            "raw_score": top if softprob else float(raw),
            "raw_scores": raw.tolist() if softprob else [1.0 - float(raw), float(raw)],
            "predicted_score": raw.item() if raw.ndim == 0 else float("nan"),
        }
        return {k: values[k] if k in valid else float("nan") for k in self.selected}


def train_script(channels: dict[str, Channel], hp: dict, model_dir: Path, log: Log, context=None) -> dict:
    """Script mode: the user's entry point, run as the container's training toolkit runs it."""
    import xgboost as xgb

    return script_mode.run(channels, hp, model_dir, log, context, f"xgboost {xgb.__version__}")


class FrameworkModel:
    """An XGBoost endpoint in framework mode: SAGEMAKER_PROGRAM names the entry point, as
    sagemaker.xgboost.XGBoostModel (or an XGBoost estimator's deploy) sets it. The
    container's serving.py imports that module and serves it with sagemaker-containers'
    Transformer (2.8.6.post2, _transformer.py): the module's model_fn loads the model (there
    is no default: its default raises "Please provide a model_fn implementation"), then
    input_fn / predict_fn / output_fn, each defaulting to serving.py's (the request decoded
    to a DMatrix from CSV, libsvm or RecordIO-protobuf; booster.predict; the prediction
    encoded as the Accept type, JSON by default), or transform_fn alone. The module runs
    inside the emulator (user_code.py)."""

    def __init__(self, model_dir: Path, environment: dict, s3, say: Callable[[str], None]):
        program = environment["SAGEMAKER_PROGRAM"]
        code_dir = model_dir / "code"
        submit = environment.get("SAGEMAKER_SUBMIT_DIRECTORY", "")
        if not (code_dir / program).is_file() and submit.startswith("s3://") and s3 is not None:
            code_dir = model_dir / "localaws-sourcedir"  # serving.py's modules.import_module downloads it
            code_dir.mkdir(exist_ok=True)
            archive = model_dir / "localaws-sourcedir.tar.gz"
            archive.write_bytes(s3.read(submit))
            with tarfile.open(archive) as tar:
                tar.extractall(code_dir, filter="data")
            archive.unlink()
        if not (code_dir / program).is_file():
            raise ClientError(f"SAGEMAKER_PROGRAM {program!r} is not in SAGEMAKER_SUBMIT_DIRECTORY {submit!r}")
        self.default_accept = environment.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", formats.JSON)
        self.user_code = UserCode(code_dir, program, say)
        module = self.user_code.module
        functions = {name: getattr(module, name, None) for name in HANDLERS}
        if functions["transform_fn"] and any(functions[n] for n in ("input_fn", "predict_fn", "output_fn")):
            self.close()
            raise ClientError("Cannot use transform_fn implementation with input_fn, predict_fn, and/or output_fn")
        if functions["model_fn"] is None:  # raised when the worker starts: the health check fails
            self.close()
            raise ClientError(f"{program} defines no model_fn: Please provide a model_fn implementation. (the "
                              "container's default model_fn raises NotImplementedError)")
        self.functions = functions
        try:
            self.model = functions["model_fn"](str(model_dir))
        except Exception as err:
            self.close()
            raise ClientError(f"model_fn failed: {type(err).__name__}: {err}") from None

    @staticmethod
    def _decode(body: bytes, content_type: str | None):
        """serving.py default_input_fn (encoder.decode): CSV, libsvm or RecordIO-protobuf to a DMatrix."""
        import xgboost as xgb

        kind = media_type(content_type, formats.CSV)
        if kind == formats.CSV:
            return xgb.DMatrix(formats.parse_request(body, kind, allow_nan=True))
        if kind in (LIBSVM, "text/x-libsvm"):
            return xgb.DMatrix(libsvm_request(body, max(
                [int(t.split(":")[0]) + 1 for t in body.decode(errors="replace").split() if ":" in t] or [0])))
        if kind == formats.RECORDIO:
            return xgb.DMatrix(formats.parse_request(body, kind))
        raise _Unsupported(content_type)

    @staticmethod
    def _encode(prediction, accept: str) -> bytes:
        """sagemaker-containers' encoders.encode: JSON (a list), CSV (a row per item), NPY."""
        array = np.asarray(prediction)
        if accept == formats.JSON:
            return json.dumps(array.tolist()).encode()
        if accept == formats.CSV:
            rows = array.reshape(-1, 1) if array.ndim == 1 else array
            return "".join(",".join(str(v) for v in np.atleast_1d(row)) + "\n" for row in rows.tolist()).encode()
        if accept == "application/x-npy":
            buffer = io.BytesIO()
            np.save(buffer, array)
            return buffer.getvalue()
        raise _Unsupported(accept)

    def predict(self, body: bytes, content_type: str | None, accept: str | None) -> tuple[bytes, str]:
        accept = self.default_accept if not accept or accept == "*/*" else accept
        f = self.functions
        try:
            if f["transform_fn"]:
                result = f["transform_fn"](self.model, body, content_type, accept)
            else:
                try:
                    data = (f["input_fn"] or (lambda b, c: self._decode(b, c)))(body, content_type)
                except _Unsupported as err:
                    raise ClientError(self._error(err), 415) from None
                prediction = (f["predict_fn"] or (lambda d, m: m.predict(d, validate_features=False)))(data, self.model)
                try:
                    result = (f["output_fn"] or (lambda p, a: (self._encode(p, a), a)))(prediction, accept)
                except _Unsupported as err:
                    raise ClientError(self._error(err), 406) from None
        except ClientError:
            raise
        except Exception as err:  # a user function's error: the worker's 500
            raise ClientError(f"{type(err).__name__}: {err}", 500) from None
        answer, answer_type = result if isinstance(result, tuple) else (result, accept)
        return (answer.encode() if isinstance(answer, str) else bytes(answer)), answer_type

    @staticmethod
    def _error(err: Exception) -> str:
        """_transformer._error_response's body (without the stack trace)."""
        return json.dumps({"error": type(err).__name__.lstrip("_"), "error-message": str(err)})

    def close(self) -> None:
        self.user_code.close()


class _Unsupported(Exception):
    """sagemaker-containers' UnsupportedFormatError."""

    def __init__(self, content_type):
        super().__init__(f"Content type {content_type} is not supported by this framework.\n\n"
                         "Please implement input_fn to to deserialize the request data or an output_fn to "
                         "serialize the response. For more information, see the SageMaker Python SDK README.")


def load(model_dir: Path, environment: dict | None = None, s3=None, image: str = ""):
    import xgboost as xgb

    if (environment or {}).get("SAGEMAKER_PROGRAM"):
        return FrameworkModel(model_dir, environment, s3, lambda line: logging.getLogger("localaws").warning(line))

    files = [p for p in model_dir.iterdir() if p.is_file()]
    path = model_dir / MODEL_FILE if (model_dir / MODEL_FILE).exists() else (files[0] if files else None)
    if path is None:
        raise ClientError("model.tar.gz holds no model file (expected 'xgboost-model')")
    booster = _unpickled_booster(path)
    if booster is None:
        booster = xgb.Booster()
        try:
            with xgb.config_context(verbosity=0):  # quiet about guessing the format from no extension
                booster.load_model(str(path))
        except xgb.core.XGBoostError as err:
            raise ClientError(f"Model at {path.name} cannot be loaded: {err}") from None
    return XGBoostModel(booster, environment or {}, container_version(image))


class _BoosterOnly(pickle.Unpickler):
    """Unpickles an xgboost Booster and nothing else: no other class, no function call."""
    # protocol 2 (the 0.90 container's Python wrote it so) names builtins "__builtin__" and
    # rebuilds bytes with _codecs.encode(text, "latin1"): a codec call, no code of the pickle's own
    ALLOWED = {("xgboost.core", "Booster"), ("builtins", "bytearray"), ("__builtin__", "bytearray"),
               ("_codecs", "encode")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise ClientError(f"the model file is a pickle of {module}.{name}: localaws loads only pickled "
                              "xgboost Boosters (a pickle can run any code)")
        if (module, name) == ("xgboost.core", "Booster"):
            return _PickledBooster  # its state is read below, by the installed xgboost
        return super().find_class(module, name)


class _PickledBooster:
    """What a pickled Booster holds: its __getstate__'s dict, whose 'handle' is the model's
    bytes (0.90: the binary model format; 1.x and later: xgboost's serialisation)."""

    def __setstate__(self, state: dict) -> None:
        self.state = state

    def booster(self):
        """The Booster, as the xgboost that pickled it would give it back: a pickle of
        1.x or later through its own __setstate__; a 0.90 pickle, whose serialisation newer
        xgboost refuses, by loading its bytes as the binary model they are (xgboost 2.1 still
        reads that format)."""
        import xgboost as xgb

        booster = xgb.Booster.__new__(xgb.Booster)
        try:
            booster.__setstate__(dict(self.state))
            return booster
        except xgb.core.XGBoostError:
            legacy = xgb.Booster()
            legacy.load_model(bytearray(self.state["handle"]))
            return legacy


def _unpickled_booster(path: Path):
    """A Booster pickled as the 0.90 and 1.x containers (and many users' own scripts) saved it;
    the container's serve_utils.get_loaded_booster tries pickle.load before load_model. None
    when the file is not a pickle (protocol 2 or later starts with 0x80)."""
    import xgboost as xgb

    data = path.read_bytes()
    if not data.startswith(b"\x80"):
        return None
    try:
        with xgb.config_context(verbosity=0):
            pickled = _BoosterOnly(io.BytesIO(data)).load()
            if not isinstance(pickled, _PickledBooster) or not isinstance(getattr(pickled, "state", None), dict):
                raise ClientError(f"Model at {path.name} is a pickle but not of an xgboost Booster")
            return pickled.booster()
    except ClientError:
        raise
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise ClientError(f"Model at {path.name} cannot be loaded: {type(err).__name__}: {first}") from None
