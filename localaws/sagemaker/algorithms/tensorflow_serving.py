"""TensorFlow Serving, as SageMaker's TensorFlow Serving container (tensorflow-inference) answers.

Sources, named again at each rule: the container's code (aws/sagemaker-tensorflow-serving-
container, docker/build_artifacts/sagemaker/: serve.py, tfs_utils.py, python_service.py,
tensorflowServing.js; the 2.x images build the same files from aws/deep-learning-containers,
tensorflow/inference/docker/build_artifacts/sagemaker/) and TensorFlow Serving's REST API
(tensorflow/serving: model_servers/http_rest_api_handler.cc, http_server.cc,
util/json_tensor.cc, servables/tensorflow/classifier.cc, regressor.cc).

Models. model.tar.gz holds SavedModels in numbered version folders; the folder holding the
versions names the model: "model" for `1/saved_model.pb` at the top, "Servo" for the book's
TF 1 `export/Servo/<timestamp>/` (tfs_utils.find_models). Every version of every model is
served, and a request without a version gets the highest (serve.py _create_tfs_config: a
`specific` version policy listing all). The default model is SAGEMAKER_TFS_DEFAULT_MODEL_NAME,
else the first model found. TF 2 SavedModels and TF 1 ones (tf.compat.v1 `Builder` or
`simple_save`, an estimator's `export_savedmodel`) load with the "serve" tag.

TF Serving's REST API, for the model, version and method a request names in its
CustomAttributes, `tfs-model-name=…,tfs-model-version=…,tfs-method=predict|classify|regress`
(tfs_utils.parse_tfs_custom_attributes, make_tfs_uri):

    POST /v1/models/<name>[/versions/<v>]:predict   {"instances": [row, …]} -> {"predictions": […]}
                                                     {"inputs": tensor(s)}    -> {"outputs": …}
    POST …:classify | …:regress   {"examples": [{feature: value, …}], "context": {…}} -> {"results": …}
    GET  /v1/models/<name>[/versions/<v>][/metadata]          (model status, signature metadata)

JSON becomes tensors as json_tensor.cc converts it: a string input takes a JSON string or
`{"b64": "…"}` (also as a whole instance: `{"instances": [{"b64": …}]}` is one binary value,
not an object of named inputs), numbers must fit the input's type (1.5 is no int32), and a
string output is written as `{"b64": …}` only when its name ends in `_bytes`. classify and
regress run a signature whose method is tensorflow/serving/classify or …/regress on
serialized tf.Examples built from the JSON examples (classifier.cc, regressor.cc), as the
book's TF 1 estimators exported them.

Requests reach TF Serving in one of two ways, as in the container:
- without `code/inference.py`, as nginx's tensorflowServing.js sends them: application/json
  (…/jsonlines, …/jsons) as is, text/csv rows as instances, anything else 415;
- with `code/inference.py` (what `TensorFlowModel(entry_point="inference.py")` repacks into
  model.tar.gz), through python_service.py: the script is imported (with code/ and code/lib
  on sys.path) and its `handler(data, context)`, or `input_handler(data, context)` and
  `output_handler(response, context)` around a `requests.post(context.rest_uri, …)`, answer
  the request. `data` is a stream with .read(), `context` the container's Context
  (model_name, model_version, method, rest_uri, grpc_port, channel, custom_attributes,
  request_content_type, accept_header, content_length; no `grpc_uri`, an older name), its
  `rest_uri` a live TF Serving REST URL on 127.0.0.1 (started at the first request, stopped
  by close()), and a handler's exception is the container's 500 `{"error": "…"}`.

Differences, said plainly: the TensorFlow installed here loads and runs the models, whatever
version the image names; the script runs inside the emulator's process (imported under a
name of its own), and `code/requirements.txt` is not installed (no downloads offline: the
packages of this virtualenv are used); there is no gRPC port (`context.grpc_port` and
`context.channel` are None); versions other than the default model's newest load at their
first request; TF Serving's answers are written compactly (it pretty-prints) and its error
messages are JSON-escaped (it C-escapes); of tensorflowServing.js, the wrapping of JSON that
is not TF Serving JSON (bare lists, JSON lines) into `{"instances": …}` is not emulated: such
a body reaches TF Serving as sent; a request without a ContentType is taken as JSON.
"""
from __future__ import annotations

import base64
import io
import json
import logging
import re
import threading
from collections import namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import numpy as np

from .base import ClientError
from .user_code import UserCode

REPOSITORIES = ("tensorflow-inference",)
HYPERPARAMETERS: dict = {}
JSON, CSV = "application/json", "text/csv"
JSON_TYPES = (JSON, "application/jsonlines", "application/jsons")  # tensorflowServing.js invocations
PREDICT, CLASSIFY, REGRESS = ("tensorflow/serving/predict", "tensorflow/serving/classify",
                              "tensorflow/serving/regress")
logger = logging.getLogger("localaws")

# python_service.py's Context (tfs_utils.Context): what a handler gets besides the data
Context = namedtuple("Context", "model_name, model_version, method, rest_uri, grpc_port, channel, "
                                "custom_attributes, request_content_type, accept_header, content_length")


class TFSError(Exception):
    """A TensorFlow Serving error status; `status` is the HTTP status its REST server answers
    (http_server.cc ToHTTPStatusCode: INVALID_ARGUMENT and FAILED_PRECONDITION 400, NOT_FOUND
    404, UNIMPLEMENTED 501, INTERNAL 500)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


# ------------------------------------------------------------------ finding the models
def find_models(model_dir: Path) -> dict[str, dict[int, Path]]:
    """{model name: {version: path}}: tfs_utils.find_models, a saved_model.pb in a numeric
    folder is a version of the model named by the folder above it (find_model_versions
    strips leading zeros: 00000123 is version 123)."""
    models: dict[str, dict[int, Path]] = {}
    for pb in sorted(Path(model_dir).rglob("saved_model.pb")):
        version = pb.parent
        if not re.fullmatch(r"\d+", version.name) or version.relative_to(model_dir).parts[:1] == ("code",):
            continue
        name = version.parent.name if version.parent != Path(model_dir) else "model"  # /opt/ml/model
        models.setdefault(name, {})[int(version.name)] = version
    if not models:
        found = sorted(str(p.parent.relative_to(model_dir)) for p in Path(model_dir).rglob("saved_model.pb"))
        where = f" saved_model.pb is in {found}, not in a numbered version folder." if found else ""
        raise ClientError("model.tar.gz holds no SavedModel in a numbered version folder (the container "
                          f"answers 'no SavedModel bundles found!').{where} In the training script, save "
                          "with model.export(os.path.join(SM_MODEL_DIR, '1')).")
    return models


def default_model_name(models: dict, environment: dict) -> str:
    """serve.py: SAGEMAKER_TFS_DEFAULT_MODEL_NAME, else the first model found (the container
    takes os.scandir's order, unspecified; we take the first in path order)."""
    name = environment.get("SAGEMAKER_TFS_DEFAULT_MODEL_NAME")
    if name and name != "None":
        if name not in models:  # the container waits for it to load, in vain (serve.py _wait_for_tfs)
            raise ClientError(f"SAGEMAKER_TFS_DEFAULT_MODEL_NAME {name!r} names no model in model.tar.gz "
                              f"(models: {sorted(models)}): TensorFlow Serving never reports it AVAILABLE")
        return name
    return next(iter(models))


def parse_tfs_custom_attributes(header: str | None, strict: bool = False) -> dict[str, str]:
    """tfs-* pairs of X-Amzn-SageMaker-Custom-Attributes (tfs_utils.parse_tfs_custom_attributes;
    tensorflowServing.js parse_custom_attributes skips a pair with a second '=', python_service's
    dict() raises on it: `strict`)."""
    attributes = {}
    for match in re.findall(r"(tfs-[a-z\-]+=[^,]+)", header or ""):
        pair = match.split("=")
        if len(pair) != 2:
            if strict:
                raise ValueError(f"dictionary update sequence element has length {len(pair)}; 2 is required")
            continue
        attributes[pair[0]] = pair[1]
    return attributes


def tfs_path(attributes: dict, default_name: str) -> str:
    """tfs_utils.make_tfs_uri (and tensorflowServing.js make_tfs_uri), without the host."""
    path = f"/v1/models/{attributes.get('tfs-model-name') or default_name}"
    if attributes.get("tfs-model-version"):
        path += "/versions/" + attributes["tfs-model-version"]
    return path + ":" + (attributes.get("tfs-method") or "predict")


# ------------------------------------------------------------------ JSON <-> tensors (json_tensor.cc)
def dtype_string(dtype) -> str:
    """TensorFlow's DataTypeString (float32 is "float", float64 "double")."""
    return {"float32": "float", "float64": "double", "float16": "half"}.get(dtype.name, dtype.name)


def show(value) -> str:
    return json.dumps(value)


def json_type(value) -> str:
    """json_tensor.cc JsonTypeString."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    return {dict: "Object", list: "Array", str: "String"}.get(type(value), "Number")


def is_b64(value) -> bool:
    """json_tensor.cc IsValBase64Object: an object with exactly one key, "b64", holding a string."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


def b64_decode(value) -> bytes:
    """json_tensor.cc JsonDecodeBase64Object."""
    if not is_b64(value):
        raise TFSError(f"JSON Value: {show(value)} not formatted correctly for base64 data")
    try:
        return base64.b64decode(value["b64"], validate=True)
    except ValueError:
        raise TFSError("Unable to base64 decode") from None


# the range each integer type takes from JSON: IsInt (int32) for int8, int16, int32 and uint8
# (stored in TensorProto.int_val), IsInt64, IsUint, IsUint64
INT_RANGES = {"int8": (-2 ** 31, 2 ** 31 - 1), "int16": (-2 ** 31, 2 ** 31 - 1), "int32": (-2 ** 31, 2 ** 31 - 1),
              "uint8": (-2 ** 31, 2 ** 31 - 1), "int64": (-2 ** 63, 2 ** 63 - 1), "uint32": (0, 2 ** 32 - 1),
              "uint64": (0, 2 ** 64 - 1)}


def scalar(value, dtype):
    """json_tensor.cc AddValueToTensor: the JSON value must be of the tensor's kind."""
    name, number = dtype.name, isinstance(value, (int, float)) and not isinstance(value, bool)
    if name in ("float32", "float64"):
        ok = number
    elif name in INT_RANGES:
        low, high = INT_RANGES[name]
        ok = number and isinstance(value, int) and low <= value <= high
    elif name == "string":
        ok = isinstance(value, str)
    elif name == "bool":
        ok = isinstance(value, bool)
    else:
        raise TFSError(f"Conversion of JSON Value: {show(value)} to type: {dtype_string(dtype)}", 501)
    if not ok:
        raise TFSError(f"JSON Value: {show(value)} Type: {json_type(value)} is not of expected type: "
                       f"{dtype_string(dtype)}")
    return value.encode() if name == "string" else value


def dense_shape(value) -> list[int]:
    """json_tensor.cc GetDenseTensorShape: the sizes of the first element at each level."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def fill(value, level: int, shape: list[int], dtype, out: list) -> None:
    """json_tensor.cc FillTensorProto: every leaf at the same depth, every list of its level's size."""
    rank = len(shape)
    if not isinstance(value, list):
        if level != rank:
            raise TFSError(f"JSON Value: {show(value)} found at incorrect level: {level + 1} in the JSON DOM. "
                           f"Expected at level: {rank}")
        if isinstance(value, dict):
            if dtype.name != "string":
                raise TFSError(f"JSON Value: {show(value)} Type: Object is not of expected type: "
                               f"{dtype_string(dtype)}")
            out.append(b64_decode(value))
        else:
            out.append(scalar(value, dtype))
        return
    if level >= rank:
        raise TFSError(f"Encountered list at unexpected level: {level} expected < {rank}")
    if len(value) != shape[level]:
        raise TFSError(f"Encountered list at unexpected size: {len(value)} at level: {level} "
                       f"expected size: {shape[level]}")
    for item in value:
        fill(item, level + 1, shape, dtype, out)


def tensor_value(value, dtype) -> np.ndarray:
    """A JSON value as an array of the input's dtype, or TF Serving's error for it."""
    if dtype.name in INT_RANGES or dtype.name in ("float32", "float64"):  # fast path: a regular array of numbers
        try:
            array = np.asarray(value)
        except ValueError:  # ragged
            array = None
        kinds = "iuf" if dtype.is_floating else "iu"
        if array is not None and array.dtype.kind in kinds:
            low, high = INT_RANGES.get(dtype.name, (None, None))
            if low is None or array.size == 0 or (low <= array.min() and array.max() <= high):
                return array.astype(dtype.as_numpy_dtype)
    shape, values = dense_shape(value), []
    fill(value, 0, shape, dtype, values)
    if dtype.name == "string":
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array.reshape(shape)
    return np.asarray(values).astype(dtype.as_numpy_dtype).reshape(shape)


def shape_string(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def instances_to_tensors(instances: list, specs: dict) -> dict[str, np.ndarray]:
    """json_tensor.cc FillTensorMapFromInstancesList: a plain list (one input) or a list of
    objects keyed by input name (a {"b64": …} element is a value, not an object); each element
    is one row, all rows of one shape."""
    if not isinstance(instances[0], dict) and len(specs) > 1:
        raise TFSError("instances is a plain list, but expecting list of objects as multiple input tensors "
                       "required as per tensorinfo_map")

    def is_object(value) -> bool:
        return isinstance(value, dict) and not is_b64(value)

    objects, names = is_object(instances[0]), sorted(specs)
    columns: dict[str, list] = {}
    for index, element in enumerate(instances):
        if objects:
            if not is_object(element):
                raise TFSError(f"Expecting object but got list at item {index} of input list")
            for key, value in element.items():
                if key not in specs:
                    raise TFSError(f"Failed to process element: {index} key: {key} of 'instances' list. Error: "
                                   f"INVALID_ARGUMENT: JSON object: does not have named input: {key}")
                columns.setdefault(key, []).append(value)
            if set(element) != set(names):
                raise TFSError(f"Failed to process element: {index} of 'instances' list. JSON object: "
                               f"{show(element)} keys must be equal to: {','.join(names)}")
        else:
            if is_object(element):
                raise TFSError(f"Expecting value/list but got object at item {index} of input list")
            columns.setdefault(next(iter(specs)), []).append(element)
    tensors = {}
    for name, rows in columns.items():
        try:  # all rows at once: a regular array is rows of one shape
            tensors[name] = tensor_value(rows, specs[name].dtype)
        except TFSError:
            check_rows(rows, specs[name].dtype, f" key: {name}" if objects else "")
            raise
    return tensors


def check_rows(rows: list, dtype, key: str) -> None:
    """json_tensor.cc AddInstanceItem: the first row that is wrong, as TF Serving reports it."""
    first = None
    for index, row in enumerate(rows):
        where = f"Failed to process element: {index}{key} of 'instances' list. Error: "
        try:
            array = tensor_value(row, dtype)
        except TFSError as err:
            code = "UNIMPLEMENTED" if err.status == 501 else "INVALID_ARGUMENT"
            raise TFSError(f"{where}{code}: {err.message}", err.status) from None
        if first is None:
            first = array
        elif array.size != first.size:
            raise TFSError(f"{where}INVALID_ARGUMENT: Expecting tensor size: {first.size} but got: {array.size}")
        elif array.shape != first.shape:
            raise TFSError(f"{where}INVALID_ARGUMENT: Expecting shape {shape_string(first.shape)} but got: "
                           f"{shape_string(array.shape)}")


def inputs_to_tensors(given, specs: dict) -> dict[str, np.ndarray]:
    """json_tensor.cc FillTensorMapFromInputsMap: a value or {"b64": …} for one input, else an
    object with a value for each named input (other keys are ignored)."""
    if not isinstance(given, dict) or is_b64(given):
        if len(specs) > 1:
            raise TFSError("inputs is a plain value/list, but expecting an object as multiple input tensors "
                           "required as per tensorinfo_map")
        name = next(iter(specs))
        return {name: tensor_value(given, specs[name].dtype)}
    tensors = {}
    for name, spec in specs.items():
        if name not in given:
            raise TFSError(f"Missing named input: {name} in 'inputs' object.")
        tensors[name] = tensor_value(given[name], spec.dtype)
    return tensors


def to_json(value, name: str = ""):
    """A tensor as TF Serving writes it (json_tensor.cc AddSingleValueAndAdvance): floats as the
    shortest decimal that reads back (WriteDecimal; NaN, Infinity), strings as text, or as
    {"b64": …} when the tensor's name ends in _bytes (IsNamedTensorBytes)."""
    array = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
    kind = array.dtype.kind
    if kind in "SO":
        def convert(b):
            if name.endswith("_bytes"):
                return {"b64": base64.b64encode(b).decode()}
            return b.decode("utf-8", errors="replace") if isinstance(b, bytes) else str(b)

        return np.vectorize(convert, otypes=[object])(array).tolist() if array.size else array.tolist()
    if array.dtype in (np.float32, np.float16):  # str() of a float32 is its shortest decimal
        shortest = np.empty(array.size, dtype=object)
        shortest[:] = [float(str(v)) for v in array.ravel()]
        return shortest.reshape(array.shape).tolist()
    if kind in "iufb":
        return array.tolist()
    raise TFSError(f"Failed to write JSON value for tensor type: {array.dtype}")


def explain(err: Exception) -> str:
    """The line of a TensorFlow error that says what is wrong (not 'Graph execution error:')."""
    lines = [line.strip() for line in str(getattr(err, "message", err)).splitlines()]
    useful = [line for line in lines if line and not line.startswith(
        ("Graph execution error", "Detected at node", "<stack traces", "[["))]
    return useful[-1] if useful else lines[0]


# ------------------------------------------------------------------ tf.Example from JSON (classify, regress)
def example_from_json(value, tf):
    """json_tensor.cc MakeExampleFromJsonObject and AddValueToFeature: a string is bytes, a
    number with a fraction or exponent a float, other numbers and booleans int64, {"b64": …}
    bytes; a feature's values are one value or a list of values of one kind."""
    if not isinstance(value, dict):
        raise TFSError(f"Example must be JSON object but got JSON {json_type(value)}")
    example = tf.train.Example()
    for name, content in value.items():
        feature, kind = example.features.feature[name], None
        for item in content if isinstance(content, list) else [content]:
            if item is None or (isinstance(item, (dict, list)) and not is_b64(item)):
                raise TFSError(f"Feature: {name} has element with unexpected JSON type: {json_type(item)}")
            if isinstance(item, int):  # booleans too: 1 and 0
                wanted = "int64_list"
            elif isinstance(item, float):
                wanted = "float_list"
            else:
                wanted = "bytes_list"
            if kind not in (None, wanted):
                raise TFSError(f"Unexpected element type in feature: {name} expecting type: {kind.split('_')[0]}")
            kind = wanted
            if wanted == "int64_list":
                if item >= 2 ** 63:
                    raise TFSError(f"Feature: {name} has uint64 element. Only int64 is supported.")
                feature.int64_list.value.append(int(item))
            elif wanted == "float_list":
                feature.float_list.value.append(item)
            else:
                feature.bytes_list.value.append(b64_decode(item) if isinstance(item, dict) else item.encode())
    return example


# ------------------------------------------------------------------ one loaded version of a model
class Servable:
    """One version of one model, loaded as TF Serving loads it (the "serve" MetaGraph)."""

    def __init__(self, name: str, version: int, path: Path):
        import tensorflow as tf
        from tensorflow.core.protobuf import saved_model_pb2

        self.tf, self.name, self.version, self.path = tf, name, version, path
        proto = saved_model_pb2.SavedModel()
        proto.ParseFromString((path / "saved_model.pb").read_bytes())
        graphs = [g for g in proto.meta_graphs if "serve" in g.meta_info_def.tags]
        if not graphs:
            raise ClientError(f"{path.name}: Could not find meta graph def matching supplied tags: {{ serve }}")
        self.signature_defs = graphs[0].signature_def
        try:
            self.loaded = tf.saved_model.load(str(path), tags=["serve"])
        except Exception as err:  # a broken SavedModel: TF Serving does not start
            raise ClientError(f"the SavedModel in {path} cannot be loaded: {explain(err)}") from None
        if not self.loaded.signatures:
            raise ClientError(f"the SavedModel in {path} has no serving signatures")

    def signature(self, name: str | None):
        """http_rest_api_handler.cc GetInfoMap: the request's signature_name, else serving_default."""
        name = name or "serving_default"
        if name not in self.loaded.signatures:
            raise TFSError(f"Serving signature name: \"{name}\" not found in signature def")
        fn = self.loaded.signatures[name]
        method = self.signature_defs[name].method_name if name in self.signature_defs else PREDICT
        return name, fn, fn.structured_input_signature[1], method

    def run(self, fn, specs: dict, arrays: dict[str, np.ndarray]) -> dict:
        tf = self.tf
        tensors = {}
        for name, array in arrays.items():
            spec = specs[name]
            if not spec.shape.is_compatible_with(array.shape):
                raise TFSError(f"input '{name}' has shape {list(array.shape)}; the signature expects "
                               f"{spec.shape.as_list()} (None: any size)")
            tensors[name] = tf.constant(array, dtype=spec.dtype)
        try:
            return fn(**tensors)
        except tf.errors.OpError as err:
            status = {1: 499, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 11: 400, 12: 501,
                      14: 503, 16: 401}.get(err.error_code, 500)  # http_server.cc ToHTTPStatusCode
            raise TFSError(explain(err), status) from None
        except (ValueError, TypeError) as err:
            raise TFSError(explain(err)) from None

    # -- predict (json_tensor.cc FillPredictRequestFromJson, MakeJsonFromTensors)
    def predict(self, request: dict) -> dict:
        signature = request.get("signature_name")
        if signature is not None and not isinstance(signature, str):
            raise TFSError(f"JSON Value: {show(request)} not formatted correctly. 'signature_name' key must be a "
                           "string value.")
        _, fn, specs, method = self.signature(signature)
        if method not in (PREDICT, CLASSIFY, REGRESS):  # predict_util.cc PreProcessPrediction
            raise TFSError(f"Expected prediction signature method_name to be one of {{{PREDICT}, {CLASSIFY}, "
                           f"{REGRESS}}}. Was: {method}", 500)
        if not specs:
            raise TFSError(f"Failed to get input map for signature: {signature or 'DEFAULT'}")
        if "instances" in request and "inputs" in request:
            raise TFSError(f"JSON Value: {show(request)} Not formatted correctly expecting only one of 'inputs' "
                           "or 'instances' keys to exist ")
        if "instances" in request:
            instances = request["instances"]
            if not isinstance(instances, list):
                raise TFSError(f"JSON Value: {show(request)} Excepting 'instances' to be an list/array")
            if not instances:
                raise TFSError(f"JSON Value: {show(request)} No values in 'instances' array")
            outputs = self.run(fn, specs, instances_to_tensors(instances, specs))
            return {"predictions": self.rows(outputs)}
        if "inputs" in request:
            outputs = self.run(fn, specs, inputs_to_tensors(request["inputs"], specs))
            if not outputs:
                raise TFSError("Cannot convert empty tensor map to JSON")
            if len(outputs) == 1:
                key, value = next(iter(outputs.items()))
                return {"outputs": to_json(value, key)}
            return {"outputs": {k: to_json(v, k) for k, v in sorted(outputs.items())}}
        raise TFSError("Missing 'inputs' or 'instances' key")

    @staticmethod
    def rows(outputs: dict) -> list:
        """json_tensor.cc MakeRowFormatJsonFromTensors: one entry per row of the batch, an
        object keyed by output name when there are several outputs."""
        if not outputs:
            raise TFSError("Cannot convert empty tensor map to JSON")
        batch = None
        for name, value in sorted(outputs.items()):
            if not value.shape.rank:
                raise TFSError(f"Tensor name: {name} has no shape information ")
            if batch is not None and batch != value.shape[0]:
                raise TFSError(f"Tensor name: {name} has inconsistent batch size: {value.shape[0]} expecting: {batch}")
            batch = value.shape[0]
        columns = {k: to_json(v, k) for k, v in sorted(outputs.items())}
        if len(columns) == 1:
            return next(iter(columns.values()))
        return [{k: columns[k][i] for k in columns} for i in range(batch)]

    # -- classify and regress (json_tensor.cc FillClassifyRegressRequestFromJson)
    def examples(self, request: dict) -> list[bytes]:
        signature = request.get("signature_name")
        if signature is not None and not isinstance(signature, str):
            raise TFSError(f"JSON Value: {show(request)} not formatted correctly. 'signature_name' key must be a "
                           "string value.")
        context = example_from_json(request["context"], self.tf) if "context" in request else None
        if "examples" not in request:  # TF Serving says "classify" for regress too
            raise TFSError(f"JSON Value: {show(request)} When method is classify, key 'examples' is expected and "
                           "was not found")
        if not isinstance(request["examples"], list):
            raise TFSError(f"JSON Value: {show(request)} Expecting 'examples' value to be an list/array")
        if not request["examples"]:
            raise TFSError(f"JSON Value: {show(request)} 'examples' value is an empty array")
        examples = [example_from_json(e, self.tf) for e in request["examples"]]
        if context is None:
            return [e.SerializeToString() for e in examples]
        # ExampleListWithContext: each example is sent with the context's features merged in
        # (tensorflow_serving/servables/tensorflow/util.cc InputToSerializedExampleTensor)
        return [context.SerializeToString() + e.SerializeToString() for e in examples]

    def method_signature(self, request: dict, method: str, what: str):
        """classifier.cc GetClassificationSignatureDef / regressor.cc GetRegressionSignatureDef."""
        name = request.get("signature_name") or "serving_default"
        if name not in self.signature_defs or name not in self.loaded.signatures:
            raise TFSError(f"No signature was found with the name: {name}")
        definition = self.signature_defs[name]
        if definition.method_name != method:
            raise TFSError(f"Expected {what} signature method_name to be {method}. Was: {definition.method_name}")
        if len(definition.inputs) != 1:
            raise TFSError("Expected one input Tensor.")
        if "inputs" not in definition.inputs:
            raise TFSError(f"No {what} inputs found in SignatureDef: {definition}")
        return self.loaded.signatures[name], definition

    def classify(self, request: dict) -> dict:
        """classifier.cc PreProcessClassification, PostProcessClassificationResult;
        json_tensor.cc MakeJsonFromClassificationResult: [[label, score], …] per example."""
        fn, definition = self.method_signature(request, CLASSIFY, "classification")
        if len(definition.outputs) not in (1, 2):
            raise TFSError(f"Expected one or two output Tensors, found {len(definition.outputs)}")
        if "classes" not in definition.outputs and "scores" not in definition.outputs:
            raise TFSError("Expected classification signature outputs to contain at least one of \"classes\" or "
                           f"\"scores\". Signature was: {definition}")
        serialized = self.examples(request)
        outputs = self.run(fn, fn.structured_input_signature[1], {"inputs": np.array(serialized, dtype=object)})
        classes, scores = outputs.get("classes"), outputs.get("scores")
        for tensor, name, dtype in ((classes, "classes", "string"), (scores, "scores", "float32")):
            if tensor is None:
                continue
            if tensor.shape.rank != 2:
                raise TFSError(f"Expected Tensor shape: [batch_size num_classes] but got {tensor.shape}")
            if tensor.dtype.name != dtype:
                raise TFSError(f"Expected {name} Tensor of {'DT_STRING' if dtype == 'string' else 'DT_FLOAT'}. "
                               f"Got: DT_{tensor.dtype.name.upper()}")
            if tensor.shape[0] != len(serialized):
                raise TFSError(f"Expected {name} output batch size of {len(serialized)}. Got: {tensor.shape[0]}")
        if classes is not None and scores is not None and classes.shape[1] != scores.shape[1]:
            raise TFSError(f"Tensors class and score should match in dim_size(1). Got {classes.shape[1]} vs. "
                           f"{scores.shape[1]}", 500)
        labels = to_json(classes) if classes is not None else None
        values = to_json(scores) if scores is not None else None
        count = (classes if classes is not None else scores).shape[1]
        return {"results": [[[labels[i][c] if labels else "", values[i][c] if values else 0.0] for c in range(count)]
                            for i in range(len(serialized))]}

    def regress(self, request: dict) -> dict:
        """regressor.cc PreProcessRegression, PostProcessRegressionResult; json_tensor.cc
        MakeJsonFromRegressionResult: one value per example."""
        fn, definition = self.method_signature(request, REGRESS, "regression")
        if len(definition.outputs) != 1:
            raise TFSError("Expected one output Tensor.")
        if "outputs" not in definition.outputs:
            raise TFSError(f"No regression outputs found in SignatureDef: {definition}")
        serialized = self.examples(request)
        output = self.run(fn, fn.structured_input_signature[1], {"inputs": np.array(serialized, dtype=object)})["outputs"]
        if not (output.shape.rank == 1 or (output.shape.rank == 2 and output.shape[1] == 1)):
            raise TFSError(f"Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got "
                           f"{output.shape}")
        if output.shape[0] != len(serialized):
            raise TFSError(f"Input batch size did not match output batch size: {len(serialized)} vs. {output.shape[0]}")
        if output.dtype.name != "float32":
            raise TFSError(f"Expected output Tensor of DT_FLOAT.  Got: DT_{output.dtype.name.upper()}")
        return {"results": np.ravel(to_json(output)).tolist()}

    def metadata(self) -> dict:
        """GET …/metadata (get_model_metadata_impl.cc): the SignatureDefs as JSON."""
        from google.protobuf.json_format import MessageToDict

        signatures = {k: MessageToDict(v, preserving_proto_field_name=True)
                      for k, v in self.signature_defs.items() if not k.startswith("__")}
        return {"model_spec": {"name": self.name, "signature_name": "", "version": str(self.version)},
                "metadata": {"signature_def": {"signature_def": signatures}}}


# ------------------------------------------------------------------ the model server
class ModelServer:
    """TensorFlow Serving over the models of one model.tar.gz: its REST API in-process
    (`handle`), and over HTTP on 127.0.0.1 once `rest_base()` is asked for."""
    PREDICTION = re.compile(r"/v1/models/([^/:]+)(?:/versions/(\d+))?:(classify|regress|predict)", re.IGNORECASE)
    STATUS = re.compile(r"/v1/models(?:/([^/:]+))?(?:/versions/(\d+))?", re.IGNORECASE)
    METADATA = re.compile(r"/v1/models/([^/:]+)(?:/versions/(\d+))?/metadata", re.IGNORECASE)

    def __init__(self, models: dict[str, dict[int, Path]]):
        self.models = models
        self.loaded: dict[tuple[str, int], Servable] = {}
        self.lock = threading.Lock()
        self.http: ThreadingHTTPServer | None = None

    def servable(self, name: str, version: int | None) -> Servable:
        """The servable a request names: TF Serving's NOT_FOUND "Servable not found for request:
        Latest(name)" / "Specific(name, version)" when there is none."""
        versions = self.models.get(name, {})
        chosen = max(versions) if version is None and versions else version
        if chosen not in versions:
            wanted = f"Latest({name})" if version is None else f"Specific({name}, {version})"
            raise TFSError(f"Servable not found for request: {wanted}", 404)
        with self.lock:
            if (name, chosen) not in self.loaded:
                self.loaded[(name, chosen)] = Servable(name, chosen, versions[chosen])
            return self.loaded[(name, chosen)]

    def handle(self, http_method: str, path: str, body: bytes) -> tuple[int, bytes]:
        """http_rest_api_handler.cc ProcessRequest: (HTTP status, JSON body); errors as
        {"error": message} (TF Serving C-escapes the message; we JSON-escape it)."""
        try:
            answer = self.dispatch(http_method, path, body)
        except TFSError as err:
            return err.status, json.dumps({"error": err.message}).encode()
        except ClientError as err:  # a version that does not load
            return 500, json.dumps({"error": str(err)}).encode()
        return 200, json.dumps(answer).encode()

    def dispatch(self, http_method: str, path: str, body: bytes) -> dict:
        prediction, status, metadata = (self.PREDICTION.fullmatch(path), self.STATUS.fullmatch(path),
                                        self.METADATA.fullmatch(path))
        if http_method == "POST" and prediction:
            name, version, method = prediction.groups()
            servable = self.servable(name, int(version) if version else None)
            request = parse_json(body)
            if method == "predict":
                return servable.predict(request)
            if method == "classify":
                return servable.classify(request)
            if method == "regress":
                return servable.regress(request)
        elif http_method == "GET" and metadata:
            name, version = metadata.groups()
            return self.servable(name, int(version) if version else None).metadata()
        elif http_method == "GET" and status:
            return self.model_status(*status.groups())
        # the handler's first status, left when nothing matched (also a method in capitals)
        raise TFSError(f"Malformed request: {http_method} {path}")

    def model_status(self, name: str | None, version: str | None) -> dict:
        """get_model_status_impl.cc: the versions TF Serving serves, AVAILABLE."""
        if not name:
            raise TFSError("Missing model name in request.")
        versions = sorted(self.models.get(name, {}))
        if not versions:
            raise TFSError(f"Could not find any versions of model {name}", 404)
        if version is not None:
            if int(version) not in versions:
                raise TFSError(f"Could not find version {int(version)} of model {name}", 404)
            versions = [int(version)]
        return {"model_version_status": [{"version": str(v), "state": "AVAILABLE",
                                          "status": {"error_code": "OK", "error_message": ""}}
                                         for v in reversed(versions)]}

    def rest_base(self) -> str:
        """http://127.0.0.1:<port> of TF Serving's REST API, started at the first call."""
        with self.lock:
            if self.http is None:
                server = self

                class Handler(BaseHTTPRequestHandler):
                    def do_POST(self):
                        self.answer("POST")

                    def do_GET(self):
                        self.answer("GET")

                    def answer(self, method: str) -> None:
                        length = int(self.headers.get("Content-Length") or 0)
                        body = self.rfile.read(length) if length else b""
                        try:
                            status, payload = server.handle(method, urlsplit(self.path).path, body)
                        except Exception as err:  # TF Serving's INTERNAL
                            status, payload = 500, json.dumps({"error": f"{type(err).__name__}: {err}"}).encode()
                        self.send_response(status)
                        self.send_header("Content-Type", JSON)
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        self.wfile.write(payload)

                    def log_message(self, *args):
                        pass

                self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
                self.http.block_on_close = False
                threading.Thread(target=self.http.serve_forever, name="tensorflow-serving-rest",
                                 daemon=True).start()
            return f"http://127.0.0.1:{self.http.server_address[1]}"

    def close(self) -> None:
        with self.lock:
            http, self.http = self.http, None
            self.loaded.clear()
        if http is not None:
            http.shutdown()
            http.server_close()


def parse_json(body: bytes) -> dict:
    """json_tensor.cc ParseJson: an object, or TF Serving's parse error."""
    if not body:
        raise TFSError("JSON Parse error: The document is empty")
    try:
        request = json.loads(body)
    except ValueError as err:
        raise TFSError(f"JSON Parse error: {err}") from None
    if not isinstance(request, dict):
        raise TFSError(f"JSON Value: {show(request)} Is not object")
    return request


def csv_request(body: bytes) -> bytes:
    """tensorflowServing.js csv_request: each line becomes an instance, as JSON text (a line
    with commas a list); when the first field is not a number or quoted, values are quoted,
    with JavaScript's String.replace changing only the first '"' and ',' of each line."""
    data = body.decode("utf-8", errors="replace")
    needs_quotes = re.match(r'\s*("|[\d.Ee+\-]+.*)', data) is None
    lines = data.strip().split("\n")
    parts = []
    for index, raw in enumerate(lines):
        line = raw.rstrip("\r").strip()
        if not line:
            continue
        columns = "," in line
        if needs_quotes:
            line = '"' + line.replace('"', '\\"', 1).replace(",", '","', 1) + '"'
        parts.append(f"[{line}]" if columns else line)
        if index != len(lines) - 1:
            parts.append(",")
    return ('{"instances":[' + "".join(parts) + "]}").encode()


# ------------------------------------------------------------------ the container
class TensorFlowServingContainer:
    """What an endpoint of the tensorflow-inference image runs: TF Serving, behind nginx's
    tensorflowServing.js or, with code/inference.py, the python service's handlers."""
    default_accept = JSON

    def __init__(self, model_dir: Path, environment: dict | None = None, log: Callable[[str], None] | None = None):
        environment = environment or {}
        self.say = log or log_line
        self.server = ModelServer(find_models(model_dir))
        self.default_name = default_model_name(self.server.models, environment)
        self.path = self.server.servable(self.default_name, None).path  # loaded now: a broken model fails the endpoint
        self.code_dir = Path(model_dir) / "code"
        self.user_code: UserCode | None = None
        self.handlers = self.import_handlers() if (self.code_dir / "inference.py").is_file() else None
        if self.handlers is None and self.code_dir.is_dir() and any(self.code_dir.glob("*.py")):
            self.say(f"[localaws] code/ holds {sorted(p.name for p in self.code_dir.glob('*.py'))} but no inference.py: "
                     "the container uses its default handlers (python_service.py looks for code/inference.py only)")

    # -- python_service.py
    def import_handlers(self) -> Callable:
        """python_service.py _import_handlers and _make_handler; serve.py _setup_gunicorn puts
        code/ and code/lib on the Python path and pip-installs code/requirements.txt (ignored when
        code/lib exists)."""
        self.user_code = UserCode(self.code_dir, "inference.py", self.say, shown="code/inference.py")
        module = self.user_code.module
        if hasattr(module, "handler"):
            return module.handler
        if hasattr(module, "input_handler") and hasattr(module, "output_handler"):
            input_handler, output_handler = module.input_handler, module.output_handler

            def handler(data, context):
                import requests

                processed_input = input_handler(data, context)
                response = requests.post(context.rest_uri, data=processed_input)
                return output_handler(response, context)

            return handler
        self.close()
        raise ClientError("code/inference.py: Handlers are not implemented correctly in user script. (the "
                          "container's NotImplementedError: define handler, or input_handler and output_handler)")

    def python_service(self, body: bytes, content_type: str | None, accept: str | None,
                       custom_attributes: str | None) -> tuple[bytes, str]:
        """python_service.py _handle_invocation_post with tfs_utils.parse_request: the handler
        gets the body as a stream and the Context; whatever it raises is the 500 answer
        {"error": str(exception)}."""
        try:
            attributes = parse_tfs_custom_attributes(custom_attributes, strict=True)
        except ValueError:  # raised before the handler's try: falcon's own 500
            raise ClientError(json.dumps({"title": "500 Internal Server Error"}), 500) from None
        context = Context(attributes.get("tfs-model-name"), attributes.get("tfs-model-version"),
                          attributes.get("tfs-method"), self.server.rest_base() + tfs_path(attributes, self.default_name),
                          None, None, custom_attributes, content_type or JSON, accept or JSON, len(body))
        try:
            answer, answer_type = self.handlers(io.BytesIO(body), context)
        except (Exception, SystemExit) as err:  # SystemExit: the worker would die; answered as the 500 here
            logger.info("exception handling request: %s", err, exc_info=True)
            raise ClientError(json.dumps({"error": str(err)}), 500) from None
        if isinstance(answer, str):
            answer = answer.encode()
        elif isinstance(answer, (bytes, bytearray, memoryview)):
            answer = bytes(answer)
        else:  # falcon cannot send it; localaws's wording
            raise ClientError(json.dumps({"error": f"the handler returned a {type(answer).__name__} as the body: "
                                                   "return (bytes or str, content type)"}), 500)
        # falcon's default media type when the handler gives none (what SageMaker then answers is unverified)
        return answer, JSON if answer_type is None else str(answer_type)

    # -- tensorflowServing.js
    def nginx(self, body: bytes, content_type: str | None, accept: str | None,
              custom_attributes: str | None) -> tuple[bytes, str]:
        """tensorflowServing.js invocations and tfs_json_request."""
        kind = JSON if content_type is None else content_type  # no ContentType: taken as JSON (unverified)
        if kind in JSON_TYPES:
            request = body
        elif kind == CSV:
            request = csv_request(body)
        else:
            raise ClientError(json.dumps({"error": f"Unsupported Media Type: {kind}"}), 415)
        path = tfs_path(parse_tfs_custom_attributes(custom_attributes), self.default_name)
        status, reply = self.server.handle("POST", path, request)
        answer_type = JSON
        if accept is not None:
            types = accept.strip().replace(" ", "", 1).split(",")
            if "application/jsonlines" in types or JSON in types:
                reply, answer_type = reply.replace(b"\n", b""), types[0]
        if status != 200:
            raise ClientError(reply.decode("utf-8", errors="replace"), status)
        return reply, answer_type

    def predict(self, body: bytes, content_type: str | None, accept: str | None,
                custom_attributes: str | None = None) -> tuple[bytes, str]:
        """One InvokeEndpoint; `custom_attributes` is its CustomAttributes (the container's
        X-Amzn-SageMaker-Custom-Attributes header)."""
        if self.handlers is not None:
            return self.python_service(body, content_type, accept, custom_attributes)
        return self.nginx(body, content_type, accept, custom_attributes)

    def close(self) -> None:
        """Stops the REST server and takes code/ (and code/lib) off the Python path, with the
        modules imported from there."""
        self.server.close()
        if self.user_code is not None:
            self.user_code.close()


def log_line(line: str) -> None:
    logger.warning(line)


def train(*args, **kwargs):
    raise ClientError("tensorflow-inference images serve models; train with a tensorflow-training image")


def load(model_dir: Path, environment: dict | None = None, log: Callable[[str], None] | None = None
         ) -> TensorFlowServingContainer:
    return TensorFlowServingContainer(Path(model_dir), environment, log)
