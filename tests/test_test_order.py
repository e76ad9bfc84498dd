"""tools/test_order.py: what runs together on one worker, and the longest work first."""
from __future__ import annotations

import json
from collections import OrderedDict

from tools import test_order


def test_a_chapters_notebooks_stay_together_and_each_matrix_run_stands_alone():
    assert test_order.scope("chapter06_recommenders/2_spark_als.ipynb::Cell 3") == "chapter06_recommenders"
    assert test_order.scope("chapter06_recommenders/3_sagemaker_factorization_machines.ipynb::checks") \
        == "chapter06_recommenders"
    assert test_order.scope("tests/test_iam.py::test_x[a/b]") == "tests/test_iam.py"
    run = "tests/test_platform_matrix.py::test_notebook_on_platform[emr-7:chapter06_recommenders/2_spark_als.ipynb]"
    assert test_order.scope(run) == run
    assert test_order.scope("tests/test_platform_matrix.py::test_every_platform_has_notebooks") \
        == "tests/test_platform_matrix.py"


def test_known_seconds_order_the_queue_and_unknown_scopes_count_their_tests(monkeypatch, tmp_path):
    monkeypatch.setattr(test_order, "LAST_RUN", tmp_path / "last.json")
    monkeypatch.setattr(test_order, "SNAPSHOT", tmp_path / "snapshot.json")
    (tmp_path / "snapshot.json").write_text(json.dumps({"chapter13_clusters": 66.7, "tests/test_iam.py": 1.7}))
    queue = OrderedDict([("tests/test_iam.py", {"a": False}), ("tests/test_new.py", {str(i): False for i in range(10)}),
                         ("chapter13_clusters", {"c": False})])
    assert list(test_order.longest_first(queue)) == ["chapter13_clusters", "tests/test_new.py", "tests/test_iam.py"]
    (tmp_path / "last.json").write_text(json.dumps({"tests/test_iam.py": 99}))  # this checkout's own run wins
    assert list(test_order.longest_first(queue))[0] == "tests/test_iam.py"
    # scopes this checkout never ran keep the snapshot's figure
    assert list(test_order.longest_first(queue)) == ["tests/test_iam.py", "chapter13_clusters", "tests/test_new.py"]


def test_a_partial_run_updates_only_what_it_ran(monkeypatch, tmp_path):
    monkeypatch.setattr(test_order, "LAST_RUN", tmp_path / "build" / "last.json")
    test_order.record({"a": 1.04, "b": 2})
    test_order.record({"b": 3})
    assert json.loads((tmp_path / "build" / "last.json").read_text()) == {"a": 1.0, "b": 3}


def test_the_committed_snapshot_names_scopes_that_exist():
    from tools.run_notebooks import discover

    snapshot = json.loads(test_order.SNAPSHOT.read_text())
    chapters = {nb.parent.name for nb in discover([])}
    for unit in snapshot:
        path = unit.split("::", 1)[0]
        assert path in chapters or (test_order.ROOT / path).exists(), f"stale scope in the snapshot: {unit}"
