"""Each notebook's opening names the IAM it needs, and that is exactly right: with the course
policy it names withheld from the reader's role, the notebook stops at its first call that
policy allows, with AWS's AccessDenied naming the action, and leaves nothing behind.
(That the named policies suffice is what every other notebook run in `make test` shows:
they run as the course role with IAM enforced.)"""
from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

import course_iam
from tools import matrix
from tools.run_notebooks import discover, run_one

ROOT = Path(__file__).resolve().parent.parent
IAM_LINE = re.compile(r"\*\*IAM:\*\*(.*)", re.S)


def opening(notebook: Path) -> str:
    return nbformat.read(notebook, as_version=4).cells[0].source


def named_policies(notebook: Path) -> set[str]:
    line = IAM_LINE.search(opening(notebook))
    roles = {name.removeprefix("MasteringML-") for name in course_iam.roles()}
    return set(re.findall(r"`MasteringML-([\w-]+)`", line.group(1))) - roles if line else set()


def reader_policy_cases():
    reader_policies = set(course_iam.roles()[course_iam.READER_ROLE]["course_policies"])
    return [(nb, p) for nb in discover([]) for p in sorted(named_policies(nb) & reader_policies)]


CASES = reader_policy_cases()


def test_every_notebook_that_calls_aws_says_what_iam_it_needs():
    for notebook in discover([]):
        if matrix.kind(notebook) == "sagemaker":
            assert IAM_LINE.search(opening(notebook)), f"{notebook.name}: no **IAM:** line in its opening"
        for policy in named_policies(notebook):
            assert policy in course_iam.policy_names(), f"{notebook.name} names an unknown policy {policy}"


def test_every_reader_policy_is_named_by_a_notebook():
    named = {p for _, p in CASES}
    assert named == set(course_iam.roles()[course_iam.READER_ROLE]["course_policies"])


def _actions(policy: str) -> set[str]:
    found = set()
    for statement in course_iam.policy_document(policy)["Statement"]:
        actions = statement["Action"]
        found.update([actions] if isinstance(actions, str) else actions)
    return found


@pytest.mark.parametrize("case", CASES, ids=[f"{nb.relative_to(ROOT).as_posix()}-without-{p}" for nb, p in CASES])
def test_the_notebook_is_denied_without_its_course_policy(case, emulator, tmp_path):
    notebook, policy = case
    if getattr(emulator, "iam_mode", "off") != "enforce":
        pytest.skip("IAM is not enforced by this emulator")
    reader = SimpleNamespace(env=emulator.reader_env(without=(policy,)), url=emulator.url)
    result = run_one(notebook, tmp_path, reader)
    assert result.error, f"{notebook.name} ran to the end without {policy}"
    denied = re.search(r"not authorized to perform: ([\w-]+:\w+)", result.error)
    assert denied, f"{notebook.name} failed, but not with an IAM denial: {result.error}"
    assert denied.group(1) in _actions(policy), f"denied {denied.group(1)}, which {policy} does not grant"
    assert not result.leftovers, f"left running after the denial: {result.leftovers}"


def test_an_emr_cluster_role_cannot_use_sagemaker_without_the_course_policy():
    """Why EMR_EC2_DefaultRole gets MasteringML-emr-notebooks: AWS's policy for it
    (AmazonElasticMapReduceforEC2Role, as moto ships it) grants no SageMaker action."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    from localaws.iam import evaluation

    document = json.loads(aws_managed_policies_data)["AmazonElasticMapReduceforEC2Role"]["Document"]
    document = json.loads(document) if isinstance(document, str) else document
    statements = evaluation.statements_of(document)
    assert evaluation.decide(statements, "sagemaker:CreateTrainingJob", "*", {}) == ""
    course = evaluation.statements_of(course_iam.policy_document("emr-notebooks"))
    assert evaluation.decide(course, "sagemaker:CreateTrainingJob", "*", {}) == "Allow"
