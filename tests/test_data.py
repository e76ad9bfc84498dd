"""Sample data is reproducible, and data/download.py behaves against a local HTTP server."""
from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "data"))

import download  # noqa: E402  (data/download.py)


def test_samples_are_reproducible(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "data" / "make_samples.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    regenerated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert regenerated, "make_samples.py wrote nothing"
    for relative in regenerated:
        committed = ROOT / "data" / "samples" / relative
        assert committed.exists(), f"{relative} is generated but not committed"
        assert committed.read_bytes() == (tmp_path / relative).read_bytes(), f"{relative} differs"


def test_housing_sample_has_the_kaggle_schema():
    header = (ROOT / "data/samples/housing/train.csv").read_text().splitlines()[0]
    assert header == "ID,crim,zn,indus,chas,nox,rm,age,dis,rad,tax,ptratio,black,lstat,medv"


class RangeHandler(SimpleHTTPRequestHandler):
    """Serves files and honours `Range: bytes=N-`, as the data sets' hosts do."""

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return None
        data = path.read_bytes()
        start = 0
        if self.headers.get("Range", "").startswith("bytes="):
            start = int(self.headers["Range"][6:].split("-")[0])
            if start >= len(data):
                self.send_error(416)
                return None
            self.send_response(206)
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        import io

        return io.BytesIO(data[start:])


@pytest.fixture()
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def dataset(url: str, body: bytes, **overrides) -> download.Dataset:
    return download.Dataset("demo", "a test file", filename="demo.csv", url=url,
                            sha256=hashlib.sha256(body).hexdigest(), size=len(body), **overrides)


def test_download_verifies_the_checksum(server, tmp_path):
    root, base = server
    body = b"a,b\n" + b"1,2\n" * 50_000
    (root / "demo.csv").write_bytes(body)
    path = download.fetch(dataset(f"{base}/demo.csv", body), tmp_path / "full")
    assert path.read_bytes() == body


def test_download_resumes_a_partial_file(server, tmp_path):
    root, base = server
    body = bytes(range(256)) * 4000
    (root / "demo.csv").write_bytes(body)
    partial_file = tmp_path / "full" / "demo" / "demo.csv.part"
    partial_file.parent.mkdir(parents=True)
    partial_file.write_bytes(body[:300_000])
    path = download.fetch(dataset(f"{base}/demo.csv", body), tmp_path / "full")
    assert path.read_bytes() == body and not partial_file.exists()


def test_a_corrupt_download_is_rejected_and_removed(server, tmp_path):
    root, base = server
    (root / "demo.csv").write_bytes(b"not what was published")
    with pytest.raises(download.DownloadError, match="checksum mismatch"):
        download.fetch(dataset(f"{base}/demo.csv", b"what was published"), tmp_path / "full")
    assert not list((tmp_path / "full").rglob("*.part"))


def test_missing_file_and_login_only_data_sets_explain_themselves(server, tmp_path):
    _, base = server
    with pytest.raises(download.DownloadError, match="HTTP 404"):
        download.fetch(dataset(f"{base}/nope.csv", b""), tmp_path)
    with pytest.raises(download.DownloadError, match="kaggle"):
        download.download(download.DATASETS["housing"], tmp_path)


def test_without_a_published_checksum_the_first_download_is_recorded(server, tmp_path):
    root, base = server
    (root / "demo.csv").write_bytes(b"version one")
    unpublished = download.Dataset("demo", "x", filename="demo.csv", url=f"{base}/demo.csv")
    download.fetch(unpublished, tmp_path)
    recorded = tmp_path / "demo" / "demo.csv.sha256"
    assert recorded.read_text().split()[0] == hashlib.sha256(b"version one").hexdigest()
    (tmp_path / "demo" / "demo.csv").unlink()
    (root / "demo.csv").write_bytes(b"version two: changed upstream")
    with pytest.raises(download.DownloadError, match="checksum mismatch"):
        download.fetch(unpublished, tmp_path)


def test_prepared_files_have_the_samples_formats(tmp_path):
    import io
    import tarfile
    import zipfile

    import numpy as np
    import pandas as pd

    npz = tmp_path / "mnist.npz"
    digits = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    np.savez(npz, x_train=digits, y_train=np.array([3, 7]), x_test=digits[:1], y_test=np.array([1]))
    mnist = pd.read_csv(download.mnist_to_kaggle_csv(npz, tmp_path)[0])
    assert list(mnist.columns[:2]) == ["label", "pixel0"] and len(mnist.columns) == 785
    assert mnist["label"].tolist() == [3, 7, 1]

    archive = tmp_path / "20news.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path, text in [("20news-bydate-train/sci.space/1", "Orbit   launch"), ("20news-bydate-test/rec.autos/2", "engine")]:
            info = tarfile.TarInfo(path)
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text.encode()))
    news = pd.read_csv(download.newsgroups_to_csv(archive, tmp_path)[0], header=None, names=["label", "document"])
    assert news.values.tolist() == [["sci.space", "Orbit launch"], ["rec.autos", "engine"]]

    workbook = io.BytesIO()
    pd.DataFrame({"InvoiceNo": ["536365"], "StockCode": ["85123A"], "Description": ["HEART"], "Quantity": [6],
                  "InvoiceDate": [pd.Timestamp("2010-12-01 08:26")], "UnitPrice": [2.55], "CustomerID": [17850.0],
                  "Country": ["United Kingdom"]}).to_excel(workbook, index=False)
    bundle = tmp_path / "retail.zip"
    with zipfile.ZipFile(bundle, "w") as z:
        z.writestr("Online Retail.xlsx", workbook.getvalue())
    retail = pd.read_csv(download.online_retail_to_csv(bundle, tmp_path)[0], dtype=str)
    assert retail.iloc[0].tolist()[:6] == ["536365", "85123A", "HEART", "6", "12/01/2010 08:26", "2.55"]
    assert retail.columns.tolist()[-2:] == ["CustomerID", "Country"]
