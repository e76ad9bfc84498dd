"""TensorFlow Serving as SageMaker's TensorFlow Serving container answers (issue 18, item 4):
TF Serving's REST API and JSON rules, TF 1 SavedModels with classify and regress, and
code/inference.py pre/post-processing; alone, through the SDK's TensorFlowModel.deploy and
through boto3's InvokeEndpoint. Test names cite the rule's source: the container's
(aws/sagemaker-tensorflow-serving-container, docker/build_artifacts/sagemaker/) python_service.py,
tfs_utils.py, serve.py, tensorflowServing.js, and TF Serving's (tensorflow/serving)
json_tensor.cc, http_rest_api_handler.cc, classifier.cc, regressor.cc."""
from __future__ import annotations

import base64
import io
import json
import os
import sys
import tarfile
import textwrap
from pathlib import Path

import botocore.exceptions
import pytest
import requests
import sagemaker
from sagemaker.exceptions import UnexpectedStatusException
from sagemaker.tensorflow import TensorFlowModel

from localaws.sagemaker.algorithms import tensorflow_serving as serving
from localaws.sagemaker.algorithms.base import ClientError

from .helpers import client, unique

FEATURES = ("x1", "x2")
W, B = (2.0, -1.0), 0.5  # the TF 1 model: logit = 2·x1 − x2 + 0.5


# ------------------------------------------------------------------ the models
def export_tf1_model(directory: Path) -> Path:
    """A TF 1 linear classifier as tf.compat.v1 graph-mode code exported it (the book's
    estimator export_savedmodel under export/Servo/<timestamp>/): a string placeholder of
    serialized tf.Examples parsed by tf.io.parse_example, a variable, and classify,
    regress and predict SignatureDefs saved with tf.compat.v1.saved_model.Builder."""
    import tensorflow as tf

    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        serialized = v1.placeholder(tf.string, shape=[None], name="input_example_tensor")
        parsed = tf.io.parse_example(serialized, {f: tf.io.FixedLenFeature([], tf.float32) for f in FEATURES})
        weights = v1.get_variable("weights", initializer=tf.constant([[W[0]], [W[1]]]))
        bias = v1.get_variable("bias", initializer=tf.constant([B]))
        logits = tf.matmul(tf.stack([parsed[f] for f in FEATURES], axis=1), weights) + bias
        probability = tf.sigmoid(logits)
        scores = tf.concat([1 - probability, probability], axis=1)
        classes = tf.tile(tf.constant([[b"0", b"1"]]), [tf.shape(serialized)[0], 1])
        signatures = v1.saved_model.signature_def_utils
        classify = signatures.classification_signature_def(serialized, classes, scores)
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            builder = v1.saved_model.Builder(str(directory / "export" / "Servo" / "1554000000"))
            builder.add_meta_graph_and_variables(session, ["serve"], signature_def_map={
                "serving_default": classify, "classification": classify,
                "regression": signatures.regression_signature_def(serialized, logits),
                "predict": signatures.predict_signature_def({"examples": serialized},
                                                            {"logistic": probability, "logits": logits})})
            builder.save()
    return directory


def save_tf2_models(directory: Path) -> Path:
    """Two TF 2 models: `doubler` (versions 1 and 2) and `reader`, whose default signature
    takes one string input and whose `ints` signature takes int32."""
    import tensorflow as tf

    class Doubler(tf.Module):
        def __init__(self, factor):
            super().__init__()
            self.factor = tf.Variable(factor)

        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
        def serve(self, x):
            return {"y": self.factor * x[:, :1] + x[:, 1:]}

    class Reader(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
        def read(self, image_bytes):
            return {"length": tf.strings.length(image_bytes), "echo_bytes": image_bytes,
                    "upper": tf.strings.upper(image_bytes)}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.int32, name="n")])
        def ints(self, n):
            return {"twice": 2 * n}

    for version, factor in ((1, 2.0), (2, 3.0)):
        module = Doubler(factor)
        tf.saved_model.save(module, str(directory / "doubler" / str(version)), signatures={"serving_default": module.serve})
    reader = Reader()
    tf.saved_model.save(reader, str(directory / "reader" / "1"),
                        signatures={"serving_default": reader.read, "ints": reader.ints})
    return directory


@pytest.fixture(scope="module")
def tf1_dir(tmp_path_factory) -> Path:
    return export_tf1_model(tmp_path_factory.mktemp("tf1"))


@pytest.fixture(scope="module")
def tf2_dir(tmp_path_factory) -> Path:
    return save_tf2_models(tmp_path_factory.mktemp("tf2"))


@pytest.fixture(scope="module")
def tf1(tf1_dir):
    container = serving.load(tf1_dir)
    yield container
    container.close()


@pytest.fixture(scope="module")
def tf2(tf2_dir):
    container = serving.load(tf2_dir, {"SAGEMAKER_TFS_DEFAULT_MODEL_NAME": "reader"})
    yield container
    container.close()


def example(**features) -> bytes:
    import tensorflow as tf

    feature = {k: tf.train.Feature(float_list=tf.train.FloatList(value=[v])) for k, v in features.items()}
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def b64(data: bytes) -> dict:
    return {"b64": base64.b64encode(data).decode()}


def logistic(x1: float, x2: float) -> float:
    import math

    return 1 / (1 + math.exp(-(W[0] * x1 + W[1] * x2 + B)))


def ask(container, body, attributes=None, content_type="application/json", accept=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer, _ = container.predict(data, content_type, accept, attributes)
    return json.loads(answer)


def refused(container, body, attributes=None, content_type="application/json") -> tuple[int, str]:
    with pytest.raises(ClientError) as err:
        ask(container, body, attributes, content_type)
    return err.value.status, json.loads(str(err.value))["error"]


# ------------------------------------------------------------------ TF Serving's JSON (json_tensor.cc)
def test_a_b64_instance_is_one_binary_value_not_named_inputs__json_tensor_IsValBase64Object(tf2):
    """The audit's bug: {"instances": [{"b64": …}]} against one string input was taken as an
    object keyed by input name and refused."""
    answer = ask(tf2, {"instances": [b64(b"\x89PNG"), b64(b"abc")]})
    assert [p["length"] for p in answer["predictions"]] == [4, 3]
    assert answer["predictions"][0]["echo_bytes"] == b64(b"\x89PNG")
    assert ask(tf2, {"inputs": [b64(b"ab")]})["outputs"]["length"] == [2]  # FillTensorMapFromInputsMap
    assert ask(tf2, {"instances": [{"image_bytes": b64(b"abcd")}]})["predictions"][0]["length"] == 4
    assert ask(tf2, {"instances": ["plain text"]})["predictions"][0]["length"] == 10


def test_string_outputs_are_b64_only_when_named_bytes__json_tensor_IsNamedTensorBytes(tf2):
    prediction = ask(tf2, {"instances": [b64(b"abc")]})["predictions"][0]
    assert prediction["upper"] == "ABC" and prediction["echo_bytes"] == {"b64": "YWJj"}


def test_values_must_be_of_the_inputs_type__json_tensor_AddValueToTensor(tf2):
    assert ask(tf2, {"instances": [1, 2], "signature_name": "ints"})["predictions"] == [2, 4]
    status, error = refused(tf2, {"instances": [1, 2.5], "signature_name": "ints"})
    assert status == 400 and error == ("Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: "
                                       "JSON Value: 2.5 Type: Number is not of expected type: int32")
    assert refused(tf2, {"instances": [7]})[1].endswith("JSON Value: 7 Type: Number is not of expected type: string")
    assert refused(tf2, {"inputs": [True], "signature_name": "ints"})[1] == \
        "JSON Value: true Type: True is not of expected type: int32"
    assert refused(tf2, {"instances": [{"b64": "not base64!"}]})[1].endswith("Unable to base64 decode")


def test_rows_must_have_one_shape_and_objects_every_input__json_tensor_FillTensorMapFromInstancesList(tf2):
    doubler = {"tfs-model-name": "doubler"}
    attributes = ",".join(f"{k}={v}" for k, v in doubler.items())
    assert ask(tf2, {"instances": [{"x": [1, 2]}, {"x": [3, 0]}]}, attributes) == {"predictions": [[5.0], [9.0]]}
    assert refused(tf2, {"instances": [[1, 2], [1, 2, 3]]}, attributes)[1] == (
        "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 2 but got: 3")
    assert refused(tf2, {"instances": [{"z": [1, 2]}]}, attributes)[1] == (
        "Failed to process element: 0 key: z of 'instances' list. Error: INVALID_ARGUMENT: JSON object: does not "
        "have named input: z")
    assert refused(tf2, {"instances": [{"x": [1, 2]}, [1, 2]]}, attributes)[1] == \
        "Expecting object but got list at item 1 of input list"
    assert refused(tf2, {"instances": []}, attributes)[1] == 'JSON Value: {"instances": []} No values in \'instances\' array'
    assert refused(tf2, {"instances": [[1, 2]], "inputs": [[1, 2]]}, attributes)[1].endswith(
        "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ")
    assert refused(tf2, {"inputs": {"z": [[1, 2]]}}, attributes)[1] == "Missing named input: x in 'inputs' object."


def test_floats_are_written_as_their_shortest_decimal__json_tensor_WriteDecimal(tf2):
    answer = ask(tf2, {"inputs": [[0.1, 0.2]]}, "tfs-model-name=doubler")
    assert json.dumps(answer) == '{"outputs": [[0.5]]}'  # float32 0.1·3 + 0.2, written as 0.5, not 0.50000000745…


# ------------------------------------------------------------------ models, versions, routing
def test_the_model_version_and_method_come_from_custom_attributes__tfs_utils_make_tfs_uri(tf2):
    newest = ask(tf2, {"instances": [[1, 1]]}, "tfs-model-name=doubler")
    first = ask(tf2, {"instances": [[1, 1]]}, "tfs-model-name=doubler,tfs-model-version=1")
    assert (newest, first) == ({"predictions": [[4.0]]}, {"predictions": [[3.0]]})  # version 2 multiplies by 3
    assert refused(tf2, {"instances": [[1, 1]]}, "tfs-model-name=doubler,tfs-model-version=7") == \
        (404, "Servable not found for request: Specific(doubler, 7)")
    assert refused(tf2, {"instances": [[1, 1]]}, "tfs-model-name=nope") == \
        (404, "Servable not found for request: Latest(nope)")
    assert refused(tf2, {"instances": [[1, 1]]}, "tfs-model-name=doubler,tfs-method=explain")[1] == \
        "Malformed request: POST /v1/models/doubler:explain"  # http_rest_api_handler.cc: no such API


def test_models_are_the_folders_above_numbered_versions__tfs_utils_find_models(tmp_path, tf1_dir, tf2_dir):
    assert sorted(serving.find_models(tf2_dir)) == ["doubler", "reader"]
    assert sorted(serving.find_models(tf2_dir)["doubler"]) == [1, 2]
    assert list(serving.find_models(tf1_dir)) == ["Servo"]  # export/Servo/<timestamp>
    (tmp_path / "top" / "1").mkdir(parents=True)
    (tmp_path / "top" / "1" / "saved_model.pb").write_bytes(b"")
    assert list(serving.find_models(tmp_path / "top")) == ["model"]  # /opt/ml/model/1: "model"
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "saved_model.pb").write_bytes(b"")
    with pytest.raises(ClientError, match=r"no SavedModel in a numbered version folder.*\['\.'\]"):
        serving.load(tmp_path / "flat")
    with pytest.raises(ClientError, match="SAGEMAKER_TFS_DEFAULT_MODEL_NAME 'other' names no model"):
        serving.load(tf2_dir, {"SAGEMAKER_TFS_DEFAULT_MODEL_NAME": "other"})


def test_rest_api_answers_model_status_and_metadata__http_rest_api_handler(tf1):
    status, body = tf1.server.handle("GET", "/v1/models/Servo", b"")
    assert (status, json.loads(body)["model_version_status"][0]["version"]) == (200, "1554000000")
    status, body = tf1.server.handle("GET", "/v1/models/Servo/metadata", b"")
    signatures = json.loads(body)["metadata"]["signature_def"]["signature_def"]
    assert signatures["regression"]["method_name"] == "tensorflow/serving/regress"
    assert tf1.server.handle("GET", "/v1/models/Nope", b"")[0] == 404


# ------------------------------------------------------------------ without inference.py: tensorflowServing.js
def test_csv_lines_become_instances__tensorflowServing_js_csv_request():
    assert serving.csv_request(b"1,2\n0,5\n") == b'{"instances":[[1,2],[0,5]]}'
    assert serving.csv_request(b"1\n2") == b'{"instances":[1,2]}'
    # text is quoted; JavaScript's String.replace changes the first ',' of a line only
    assert serving.csv_request(b"a,b,c") == b'{"instances":[["a","b,c"]]}'


def test_content_types_and_accept__tensorflowServing_js_invocations(tf2):
    body, kind = tf2.predict(b"1,1\n2,0", "text/csv", "text/csv, application/json", "tfs-model-name=doubler")
    assert (json.loads(body), kind) == ({"predictions": [[4.0], [6.0]]}, "text/csv")  # the first Accept type
    assert refused(tf2, b"\x89PNG", content_type="image/png") == (415, "Unsupported Media Type: image/png")
    assert refused(tf2, b"{}", content_type="application/json; charset=utf-8")[0] == 415  # compared as is


# ------------------------------------------------------------------ TF 1 SavedModels: predict, classify, regress
def test_a_tf1_model_predicts_b64_serialized_examples__json_tensor_IsValBase64Object(tf1):
    rows = [example(x1=1.0, x2=3.0), example(x1=0.0, x2=0.0)]
    classified = ask(tf1, {"instances": [b64(r) for r in rows]})["predictions"]  # serving_default: the classify signature
    assert classified[0]["classes"] == ["0", "1"]
    assert classified[0]["scores"][1] == pytest.approx(logistic(1, 3), abs=1e-6)
    predicted = ask(tf1, {"signature_name": "predict", "instances": [b64(r) for r in rows]})["predictions"]
    assert [p["logits"] for p in predicted] == [[-0.5], [0.5]]


def test_classify_and_regress_run_their_signatures_on_examples__classifier_cc_regressor_cc(tf1):
    examples = [{"x1": 1.0, "x2": 3.0}, {"x1": 0.0, "x2": 0.0}]
    results = ask(tf1, {"examples": examples}, "tfs-method=classify")["results"]
    assert [label for label, _ in results[0]] == ["0", "1"]
    assert results[1][1][1] == pytest.approx(logistic(0, 0), abs=1e-6)
    assert ask(tf1, {"signature_name": "regression", "examples": examples}, "tfs-method=regress") == \
        {"results": [-0.5, 0.5]}
    # "context" features are merged into every example (ExampleListWithContext)
    assert ask(tf1, {"signature_name": "regression", "context": {"x2": 1.0}, "examples": [{"x1": 1.0}]},
               "tfs-method=regress") == {"results": [1.5]}


def test_classify_and_regress_refuse_what_tf_serving_refuses__classifier_cc_regressor_cc(tf1, tf2):
    assert refused(tf1, {"examples": [{"x1": 1.0, "x2": 3.0}]}, "tfs-method=regress")[1] == (
        "Expected regression signature method_name to be tensorflow/serving/regress. "
        "Was: tensorflow/serving/classify")
    assert refused(tf2, {"examples": [{"x": 1.0}]}, "tfs-model-name=doubler,tfs-method=classify")[1] == (
        "Expected classification signature method_name to be tensorflow/serving/classify. "
        "Was: tensorflow/serving/predict")
    assert refused(tf1, {"instances": [1]}, "tfs-method=classify")[1].endswith(
        "When method is classify, key 'examples' is expected and was not found")
    assert refused(tf1, {"examples": [{"x1": [1, 2.5]}]}, "tfs-method=classify")[1] == \
        "Unexpected element type in feature: x1 expecting type: int64"
    assert refused(tf1, {"examples": [{"x1": 1.0}], "signature_name": "nope"}, "tfs-method=classify")[1] == \
        "No signature was found with the name: nope"


# ------------------------------------------------------------------ code/inference.py: python_service.py
PRE_POST = '''
"""The container README's input_handler/output_handler pair, for the TF 1 model."""
import base64
import json

import requests
import tensorflow as tf

SEEN = {}


def _example(row):
    feature = {k: tf.train.Feature(float_list=tf.train.FloatList(value=[float(v)])) for k, v in row.items()}
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def input_handler(data, context):
    SEEN["data_has_read"] = hasattr(data, "read")
    if context.request_content_type == "application/json":
        rows = json.loads(data.read().decode("utf-8"))
    elif context.request_content_type == "text/csv":
        rows = [dict(zip(("x1", "x2"), map(float, line.split(","))))
                for line in data.read().decode("utf-8").splitlines() if line.strip()]
    else:
        raise ValueError('{{"error": "unsupported content type {}"}}'.format(
            context.request_content_type or "unknown"))
    if rows == "raw":
        return ""  # TF Serving gets an empty body
    instances = [{"b64": base64.b64encode(_example(row)).decode()} for row in rows]
    return json.dumps({"signature_name": "predict", "instances": instances})


def output_handler(response, context):
    if response.status_code != 200:
        raise ValueError(response.content.decode("utf-8"))
    context_fields = {k: v for k, v in context._asdict().items() if k != "channel"}
    answer = {"probabilities": [p["logistic"][0] for p in json.loads(response.content)["predictions"]],
              "seen": {**SEEN, "response_class": type(response).__module__ + "." + type(response).__name__,
                       "context": context_fields}}
    return json.dumps(answer), context.accept_header
'''

HANDLER = '''
"""A handler that calls TF Serving itself, as the container README's handler does."""
import json

import requests

import dummy_module  # from code/lib


def handler(data, context):
    response = requests.post(context.rest_uri, data=data.read())
    status = requests.get(context.rest_uri.rsplit(":", 1)[0])  # GET /v1/models/<name>: the model's status
    return json.dumps({"status_code": response.status_code, "tfs": response.json(), "rest_uri": context.rest_uri,
                       "method": context.method, "lib": dummy_module.VERSION,
                       "state": status.json()["model_version_status"][0]["state"]}), "application/json"
'''

IMAGE = '''
"""The container README's image example: application/x-image in, {"instances": [{"b64": …}]} to TF Serving."""
import base64
import json


def input_handler(data, context):
    if context.request_content_type == "application/x-image":
        return json.dumps({"instances": [{"b64": base64.b64encode(data.read()).decode("utf-8")}]})
    raise ValueError("Error: 415, Unsupported content type \\"{}\\"".format(context.request_content_type))


def output_handler(response, context):
    if response.status_code != 200:
        raise ValueError("Error: {}, {}".format(response.status_code, response.content.decode("utf-8")))
    return response.content, context.accept_header
'''


def with_code(model_dir: Path, target: Path, files: dict[str, str]) -> Path:
    """A copy of a model directory with code/ files added, as repack_model lays them out."""
    import shutil

    shutil.copytree(model_dir, target)
    for name, text in files.items():
        (target / "code" / name).parent.mkdir(parents=True, exist_ok=True)
        (target / "code" / name).write_text(textwrap.dedent(text))
    return target


@pytest.fixture
def loaded():
    containers = []

    def load(model_dir, environment=None, lines=None):
        container = serving.load(model_dir, environment, lines.append if lines is not None else None)
        containers.append(container)
        return container

    yield load
    for container in containers:
        container.close()


def test_input_and_output_handlers_wrap_the_rest_call__python_service_make_handler(tf1_dir, tmp_path, loaded):
    container = loaded(with_code(tf1_dir, tmp_path / "m", {"inference.py": PRE_POST}))
    body, kind = container.predict(b'[{"x1": 1, "x2": 3}]', "application/json", None,
                                   "tfs-model-version=1554000000,other=1")
    answer = json.loads(body)
    assert kind == "application/json"  # the handler's: context.accept_header, defaulted as tfs_utils.parse_request does
    assert answer["probabilities"] == [pytest.approx(logistic(1, 3), abs=1e-6)]
    seen = answer["seen"]
    assert seen["data_has_read"] and seen["response_class"] == "requests.models.Response"
    context = seen["context"]
    assert context["rest_uri"].startswith("http://127.0.0.1:")
    assert context["rest_uri"].endswith("/v1/models/Servo/versions/1554000000:predict")
    assert {k: context[k] for k in ("model_name", "model_version", "method", "grpc_port", "custom_attributes",
                                    "request_content_type", "accept_header", "content_length")} == {
        "model_name": None, "model_version": "1554000000", "method": None, "grpc_port": None,
        "custom_attributes": "tfs-model-version=1554000000,other=1", "request_content_type": "application/json",
        "accept_header": "application/json", "content_length": 20}
    csv = json.loads(container.predict(b"0,0\n1,3\n", "text/csv", "application/json", None)[0])
    assert csv["probabilities"] == [pytest.approx(logistic(0, 0), abs=1e-6), pytest.approx(logistic(1, 3), abs=1e-6)]


def test_a_handlers_exception_is_the_containers_500__python_service_handle_invocation_post(tf1_dir, tmp_path, loaded):
    container = loaded(with_code(tf1_dir, tmp_path / "m", {"inference.py": PRE_POST}))
    with pytest.raises(ClientError) as err:
        container.predict(b"abc", "application/x-npy", None, None)
    assert err.value.status == 500
    assert json.loads(str(err.value)) == {"error": '{"error": "unsupported content type application/x-npy"}'}
    # test_pre_post_processing.py test_zero_content: TF Serving's 400 reaches output_handler, which raises
    with pytest.raises(ClientError) as err:
        container.predict(b'"raw"', "application/json", None, None)
    assert err.value.status == 500 and "The document is empty" in json.loads(str(err.value))["error"]


def test_handler_calls_tf_serving_at_rest_uri__python_service_make_handler(tf1_dir, tmp_path, loaded):
    lines: list[str] = []
    model = with_code(tf1_dir, tmp_path / "m", {"inference.py": HANDLER, "lib/dummy_module/__init__.py": "VERSION = '1.0'\n",
                                                "requirements.txt": "pillow\n"})
    container = loaded(model, lines=lines)
    assert str(model / "code" / "lib") in sys.path and str(model / "code") in sys.path  # serve.py _setup_gunicorn
    assert any("requirements.txt: ignored" in line for line in lines)  # code/lib exists: as the container does
    body, _ = container.predict(json.dumps({"signature_name": "regression", "examples": [{"x1": 1.0, "x2": 1.0}]}).encode(),
                                   "application/json", None, "tfs-method=regress")
    answer = json.loads(body)
    assert answer["rest_uri"].endswith("/v1/models/Servo:regress") and answer["method"] == "regress"
    assert (answer["status_code"], answer["tfs"], answer["lib"], answer["state"]) == (200, {"results": [1.5]}, "1.0", "AVAILABLE")
    base = answer["rest_uri"].rsplit("/v1/", 1)[0]
    container.close()  # the REST server and the Python path go with the model
    with pytest.raises(requests.ConnectionError):
        requests.get(base + "/v1/models/Servo", timeout=5)
    assert str(model / "code" / "lib") not in sys.path and "dummy_module" not in sys.modules


def test_requirements_are_not_installed_offline__serve_py_setup_gunicorn(tf1_dir, tmp_path, loaded):
    lines: list[str] = []
    loaded(with_code(tf1_dir, tmp_path / "m", {"inference.py": PRE_POST, "requirements.txt": "pillow\n"}), lines=lines)
    assert any("requirements.txt is not installed offline" in line for line in lines)


def test_the_readmes_image_example_sends_b64_instances__python_service(tf2_dir, tmp_path, loaded):
    container = loaded(with_code(tf2_dir, tmp_path / "m", {"inference.py": IMAGE}), {"SAGEMAKER_TFS_DEFAULT_MODEL_NAME": "reader"})
    body, _ = container.predict(b"\x89PNG\r\n", "application/x-image", "application/json", None)
    assert json.loads(body)["predictions"][0]["length"] == 6


def test_a_script_without_handlers_fails_to_load__python_service_import_handlers(tf1_dir, tmp_path):
    with pytest.raises(ClientError, match="Handlers are not implemented correctly in user script"):
        serving.load(with_code(tf1_dir, tmp_path / "a", {"inference.py": "def predict_fn(data):\n    return data\n"}))
    with pytest.raises(ClientError, match="code/inference.py cannot be imported: ModuleNotFoundError"):
        serving.load(with_code(tf1_dir, tmp_path / "b", {"inference.py": "import not_installed_anywhere\n"}))


def test_a_handler_must_answer_body_and_content_type__python_service_handle_invocation_post(tf1_dir, tmp_path, loaded):
    script = "def handler(data, context):\n    return {'not': 'bytes'}, 'application/json'\n"
    container = loaded(with_code(tf1_dir, tmp_path / "a", {"inference.py": script}))
    with pytest.raises(ClientError, match="returned a dict as the body") as err:
        container.predict(b"{}", "application/json", None, None)
    assert err.value.status == 500
    container = loaded(with_code(tf1_dir, tmp_path / "b", {"inference.py": "def handler(data, context):\n    return b'x'\n"}))
    with pytest.raises(ClientError, match="not enough values to unpack") as err:  # the container unpacks in its try
        container.predict(b"{}", "application/json", None, None)
    assert err.value.status == 500


# ------------------------------------------------------------------ through the SDK and boto3
@pytest.fixture(scope="module")
def session():
    return sagemaker.Session()


def upload_model(session, model_dir: Path, name: str) -> str:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(model_dir)), recursive=False)
    key = f"{unique(name)}/model.tar.gz"
    client("s3").put_object(Bucket=session.default_bucket(), Key=key, Body=archive.getvalue())
    return f"s3://{session.default_bucket()}/{key}"


def tf_model(session, model_data: str, **kwargs) -> TensorFlowModel:
    return TensorFlowModel(model_data=model_data, role=os.environ["SAGEMAKER_ROLE_ARN"], framework_version="2.18",
                           sagemaker_session=session, **kwargs)


def model_error(call, **params) -> dict:
    with pytest.raises(botocore.exceptions.ClientError) as err:
        call(**params)
    assert err.value.response["Error"]["Code"] == "ModelError"
    return err.value.response


def custom_attributes_reach_the_container(endpoint: str, body: bytes) -> bool:
    """Whether runtime.py passes InvokeEndpoint's CustomAttributes to the model: then a model
    name that does not exist is TF Serving's "Servable not found", not an answer."""
    try:
        client("sagemaker-runtime").invoke_endpoint(EndpointName=endpoint, ContentType="application/json",
                                                    Body=body, CustomAttributes="tfs-model-name=absent")
    except botocore.exceptions.ClientError as err:
        return "Servable not found for request: Latest(absent)" in err.response["Error"]["Message"]
    return False




def test_sdk_deploys_a_tf1_model_with_inference_py_and_boto3_invokes_it(session, tf1_dir, tmp_path):
    """TensorFlowModel(entry_point='inference.py').deploy repacks the script into code/ of
    model.tar.gz; the endpoint answers through its input_handler and output_handler."""
    (tmp_path / "inference.py").write_text(textwrap.dedent(PRE_POST))
    model = tf_model(session, upload_model(session, tf1_dir, "tf1-model"), entry_point=str(tmp_path / "inference.py"))
    predictor = model.deploy(initial_instance_count=1, instance_type="ml.m5.large")
    try:
        answer = predictor.predict([{"x1": 1.0, "x2": 3.0}, {"x1": 2.0, "x2": 0.0}])
        assert answer["probabilities"] == [pytest.approx(logistic(1, 3), abs=1e-6), pytest.approx(logistic(2, 0), abs=1e-6)]
        runtime = client("sagemaker-runtime")
        reply = runtime.invoke_endpoint(EndpointName=predictor.endpoint_name, ContentType="text/csv", Body=b"1,3\n",
                                        Accept="application/json")
        assert json.loads(reply["Body"].read())["probabilities"] == [pytest.approx(logistic(1, 3), abs=1e-6)]
        error = model_error(runtime.invoke_endpoint, EndpointName=predictor.endpoint_name,
                            ContentType="application/x-npy", Body=b"\x93NUMPY")
        assert error["OriginalStatusCode"] == 500
        assert "unsupported content type application/x-npy" in error["Error"]["Message"]
        assert custom_attributes_reach_the_container(predictor.endpoint_name, b'[{"x1": 0, "x2": 0}]')
        reply = runtime.invoke_endpoint(EndpointName=predictor.endpoint_name, ContentType="application/json",
                                        Body=b'[{"x1": 0, "x2": 0}]', CustomAttributes="tfs-model-version=1554000000")
        context = json.loads(reply["Body"].read())["seen"]["context"]
        assert context["model_version"] == "1554000000" and context["custom_attributes"] == "tfs-model-version=1554000000"
    finally:
        predictor.delete_model()
        predictor.delete_endpoint()


def test_sdk_classify_and_regress_select_tf_servings_method__tfs_utils_parse_request(session, tf1_dir):
    """TensorFlowPredictor.classify/regress send CustomAttributes tfs-method=classify|regress."""
    predictor = tf_model(session, upload_model(session, tf1_dir, "tf1-plain")).deploy(1, "ml.m5.large")
    try:
        instances = json.dumps({"instances": [b64(example(x1=1.0, x2=3.0))]})
        assert predictor.predict(json.loads(instances))["predictions"][0]["classes"] == ["0", "1"]
        assert custom_attributes_reach_the_container(predictor.endpoint_name, instances.encode())
        classified = predictor.classify({"examples": [{"x1": 1.0, "x2": 3.0}]})["results"][0]
        assert classified[1][0] == "1" and classified[1][1] == pytest.approx(logistic(1, 3), abs=1e-6)
        assert predictor.regress({"signature_name": "regression", "examples": [{"x1": 1.0, "x2": 3.0}]}) == \
            {"results": [-0.5]}
        error = model_error(client("sagemaker-runtime").invoke_endpoint, EndpointName=predictor.endpoint_name,
                            ContentType="application/json", Body=b'{"examples": [{"x1": 1.0}]}',
                            CustomAttributes="tfs-method=regress")
        assert error["OriginalStatusCode"] == 400 and "Expected regression signature method_name" in error["Error"]["Message"]
    finally:
        predictor.delete_model()
        predictor.delete_endpoint()


def test_sdk_deploy_fails_for_a_script_without_handlers__python_service_import_handlers(session, tf1_dir, tmp_path):
    (tmp_path / "inference.py").write_text("def model_fn(model_dir):\n    return None\n")
    model = tf_model(session, upload_model(session, tf1_dir, "tf1-broken"), entry_point=str(tmp_path / "inference.py"))
    name = unique("tfs-no-handlers")
    try:
        with pytest.raises(UnexpectedStatusException, match="Handlers are not implemented correctly"):
            model.deploy(1, "ml.m5.large", endpoint_name=name)
        assert session.sagemaker_client.describe_endpoint(EndpointName=name)["EndpointStatus"] == "Failed"
    finally:  # the failed endpoint, its configuration (the SDK names it as the endpoint) and the model
        session.delete_endpoint(name)
        session.delete_endpoint_config(name)
        session.delete_model(model.name)
