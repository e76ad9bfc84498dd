"""The MetricDefinitions AWS lists for a built-in algorithm's training job.

DescribeTrainingJob's AlgorithmSpecification.MetricDefinitions holds, for a built-in
algorithm, every metric its container can log, as a name and the regex CloudWatch applies
to the log (tests/aws_examples/DescribeTrainingJob.json: 36 for sagemaker-xgboost, each
`.*\\[[0-9]+\\].*#011<data>-<metric>:(<number>).*`, `#011` being the tab of the
container's log lines). localaws's XGBoost logs its rounds in that format, so these regexes
find its metrics as they find the container's. The first-party algorithms' regexes are not
public: for them only the definitions the job gave are listed.
"""
from __future__ import annotations

NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
XGBOOST_METRICS = ("accuracy", "auc", "aucpr", "cox-nloglik", "error", "f1", "gamma-deviance", "gamma-nloglik",
                   "logloss", "mae", "map", "merror", "mlogloss", "mse", "ndcg", "poisson-nloglik", "rmse",
                   "tweedie-nloglik")


def _xgboost() -> list[dict]:
    definitions = [{"Name": f"{data}:{metric}", "Regex": rf".*\[[0-9]+\].*#011{data}-{metric}:{NUMBER}.*"}
                   for data in ("train", "validation") for metric in XGBOOST_METRICS]
    for definition in definitions:  # AWS's list has it so: validation:cox-nloglik reads train's line
        if definition["Name"] == "validation:cox-nloglik":
            definition["Regex"] = definition["Regex"].replace("#011validation-", "#011train-")
    return definitions


BUILT_IN = {"xgboost": _xgboost, "sagemaker-xgboost": _xgboost}


def for_job(repository: str, given: list[dict] | None, script_mode: bool) -> list[dict]:
    """The job's own definitions, then the algorithm's (script mode runs the user's code:
    only the job's own)."""
    given = list(given or [])
    if script_mode or repository not in BUILT_IN:
        return given
    named = {d["Name"] for d in given}
    return given + [d for d in BUILT_IN[repository]() if d["Name"] not in named]
