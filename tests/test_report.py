"""The run report: figures beside the book's, failures with their error, plots embedded."""
from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import nbformat

from tools import matrix, report

PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                                     "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")).decode()


def test_report_shows_metrics_failures_and_plots(tmp_path, monkeypatch):
    monkeypatch.setattr(matrix, "LAST_RUN", tmp_path / "no-matrix-yet")
    passed, failed = "chapter03_regression/1_sklearn_linear_regression.ipynb", "chapter03_regression/2_spark_linear_regression.ipynb"
    (tmp_path / "results.json").write_text(json.dumps([
        {"notebook": passed, "seconds": 4.2, "error": None, "metrics": {"r2": 0.661, "rmse": 4.98,
         "r2_over_splits": {"mean": 0.694, "std": 0.065, "splits": 50}}, "leftovers": {}},
        {"notebook": failed, "seconds": 9.0, "error": "ValueError: boom", "metrics": {}, "leftovers": {}},
    ]))
    executed = tmp_path / "executed" / passed
    executed.parent.mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Chapter 3 · Houses — scikit-learn"),
                                         nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output(
                                             "display_data", data={"image/png": PNG})])])
    nbformat.write(nb, executed)
    page = report.write(tmp_path).read_text()
    assert "Chapter 3 · Predicting house value with linear regression" in page  # from the real notebook
    assert "0.661" in page and "0.695" in page and "0.55 – 0.9" in page       # run, book, band
    assert "0.694 ± 0.065 over 50 splits" in page and "typical (z = +0.0)" in page  # the book against the spread
    assert "1 of 2 notebooks passed" in page and "ValueError: boom" in page
    assert f"data:image/png;base64,{PNG}" in page
    assert (tmp_path / "executed" / passed).with_suffix(".html").exists()


def test_report_shows_the_last_platform_matrix(tmp_path, monkeypatch):
    monkeypatch.setattr(matrix, "LAST_RUN", tmp_path / "matrix")
    laptop = {"notebook": "chapter03_regression/2_spark_linear_regression.ipynb", "seconds": 9.0, "error": None,
              "metrics": {}, "leftovers": {}}
    (tmp_path / "results.json").write_text(json.dumps([laptop]))
    matrix.remember(SimpleNamespace(**{**laptop, "platform": "emr-7", "seconds": 31.0, "expected": None,
                                       "skipped": None}))
    page = report.write(tmp_path).read_text()
    assert "The platform matrix" in page and "emr-7" in page and "ok 31 s" in page


def test_the_book_against_the_spread_of_repeated_splits():
    from tools import figures

    measured = {"r2_over_splits": {"mean": 0.70, "std": 0.05, "splits": 50}}
    assert figures.book_against_spread(0.72, measured, "r2") == "typical (z = +0.4)"
    assert figures.book_against_spread(0.85, measured, "r2") == "high for one split (z = +3.0)"
    assert figures.book_against_spread(0.55, measured, "r2") == "low for one split (z = -3.0)"
    assert figures.book_against_spread(0.72, {}, "r2") == "" and figures.spread({"r2": 0.7}, "r2") is None


def test_every_recorded_figure_has_a_band_that_can_fail():
    """A figure with only `book:` was checked as -inf <= value <= inf (ch4's
    dt_auc_raw_counts): recorded, never judged."""
    from tools import figures

    unbounded = [f"{notebook}: {name}" for notebook, spec in figures.load().items()
                 for name, band in spec.get("metrics", {}).items() if "min" not in band and "max" not in band]
    assert unbounded == []
    assert figures.out_of_band({"metrics": {"auc": {"min": 0.3, "max": 0.5}}}, {"auc": 0.6}) != []
