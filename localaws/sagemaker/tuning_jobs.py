"""Hyperparameter tuning jobs: real training jobs over the ranges, chosen by the job's
strategy (tuning.py: grid, random, Bayesian), each reporting its objective metric; the best
one is the tuning job's BestTrainingJob."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import numpy as np

from . import algorithms, metric_definitions, tuning
from .algorithms.script_mode import is_script_mode
from .exceptions import in_use, invalid
from .resources import arn, failure_reason, now, run_and_wait


class TuningJobs:
    """The tuning-job operations of SageMakerBackend (models.py), which holds the state they
    use: `tuning_jobs`, `tuning_trials` (each tuning job's training-job summaries),
    `stop_requested`, `lock`; trials are created with its `create_training_job`."""

    def create_hyper_parameter_tuning_job(self, params: dict, region: str) -> dict:
        name = params["HyperParameterTuningJobName"]
        config, definition = params["HyperParameterTuningJobConfig"], params.get("TrainingJobDefinition")
        if not definition:
            raise invalid("localaws runs tuning jobs with a single TrainingJobDefinition; "
                          "TrainingJobDefinitions (several algorithms) are not emulated.")
        objective = config.get("HyperParameterTuningJobObjective")
        if not objective:
            raise invalid("HyperParameterTuningJobObjective is required offline, also with Autotune: localaws "
                          "does not know which objective AWS would choose for this algorithm.")
        image = definition["AlgorithmSpecification"].get("TrainingImage") or ""
        ranges, auto_static = self._ranges(config, image)
        parents = self._warm_start_parents(params.get("WarmStartConfig"), objective, definition, ranges, auto_static)
        search = tuning.strategy(config["Strategy"], ranges, config.get("RandomSeed"))
        limits = config["ResourceLimits"]
        max_jobs = limits.get("MaxNumberOfTrainingJobs") or len(getattr(search, "grid", [])) or 1
        # As AWS describes it (the SDK's own fixture, tests/unit/tuner_test_utils.py
        # TUNING_JOB_DETAILS, and its HyperparameterTuner.attach, which reads both keys
        # unconditionally): the objective as the reserved static hyperparameter, and the
        # instances as ResourceConfig, also when they were given as HyperParameterTuningResourceConfig
        # (as SDK v2 sends them) for a single instance type.
        definition = {**definition, "StaticHyperParameters": {
            **definition.get("StaticHyperParameters", {}), **auto_static,
            "_tuning_objective_metric": objective["MetricName"]}}
        # AlgorithmSpecification.MetricDefinitions is read unconditionally too: the definitions given,
        # then the built-in algorithm's own (metric_definitions.py); each channel's defaults as AWS
        # fills them in (tests/aws_examples/DescribeHyperParameterTuningJob.json)
        spec = definition["AlgorithmSpecification"]
        definition["AlgorithmSpecification"] = {**spec, "MetricDefinitions": metric_definitions.for_job(
            algorithms.repository_of(image), spec.get("MetricDefinitions"), is_script_mode(definition["StaticHyperParameters"]))}
        mode = spec.get("TrainingInputMode", "File")
        definition["InputDataConfig"] = [{"CompressionType": "None", "RecordWrapperType": "None", "InputMode": mode,
                                          **channel} for channel in definition.get("InputDataConfig", [])]
        hpo_resources = definition.get("HyperParameterTuningResourceConfig") or {}
        if "ResourceConfig" not in definition and hpo_resources.get("InstanceType"):
            definition["ResourceConfig"] = {k: hpo_resources[k] for k in (
                "InstanceType", "InstanceCount", "VolumeSizeInGB", "VolumeKmsKeyId") if k in hpo_resources}
        # what AWS fills in (tests/aws_examples/DescribeHyperParameterTuningJob.json): ScalingType on every
        # numeric range, TrainingJobEarlyStoppingType, the definition's Enable* flags, the counters
        for flag in ("EnableNetworkIsolation", "EnableInterContainerTrafficEncryption", "EnableManagedSpotTraining"):
            definition.setdefault(flag, False)
        config = {"TrainingJobEarlyStoppingType": "Off", **config}
        if config.get("ParameterRanges"):
            config["ParameterRanges"] = {
                kind: [{"ScalingType": "Auto", **r} if kind in ("IntegerParameterRanges", "ContinuousParameterRanges")
                       else r for r in entries] for kind, entries in config["ParameterRanges"].items()}
        created = now()
        job = {"HyperParameterTuningJobName": name,
               "HyperParameterTuningJobArn": arn(region, "hyper-parameter-tuning-job", name),
               "HyperParameterTuningJobConfig": config, "TrainingJobDefinition": definition,
               "ConsumedResources": {"RuntimeInSeconds": 0},
               "TuningJobCompletionDetails": {"NumberOfTrainingJobsObjectiveNotImproving": 0},
               "HyperParameterTuningJobStatus": "InProgress", "CreationTime": created, "LastModifiedTime": created,
               "TrainingJobStatusCounters": {"Completed": 0, "InProgress": 0, "RetryableError": 0,
                                             "NonRetryableError": 0, "Stopped": 0},
               "ObjectiveStatusCounters": {"Succeeded": 0, "Pending": 0, "Failed": 0}}
        for optional in ("WarmStartConfig", "Autotune"):
            if params.get(optional):
                job[optional] = params[optional]
        with self.lock:
            self._insert(self.tuning_jobs, name, job, "HyperParameterTuningJobArn", params.get("Tags"), in_use(
                f"Tuning job names must be unique within an AWS account and region, and a "
                f"tuning job with this name already exists ({job['HyperParameterTuningJobArn']})"))
            self.tuning_trials[name] = []
        prior = self._prior_trials(parents, ranges)
        run = lambda: self._tune(job, search, objective, max_jobs, limits["MaxParallelTrainingJobs"], region,  # noqa: E731
                                 prior, parents)
        run_and_wait(run, self.sync_seconds, f"tune-{name}", self.workers)
        return {"HyperParameterTuningJobArn": job["HyperParameterTuningJobArn"]}

    @staticmethod
    def _ranges(config: dict, image: str) -> tuple[list, dict[str, str]]:
        """The job's ranges, Autotune's included, and the AutoParameters left static."""
        parameter_ranges, auto_static = tuning.autotune(config.get("ParameterRanges") or {},
                                                        algorithms.repository_of(image))
        return tuning.parse_ranges(parameter_ranges), auto_static

    def _warm_start_parents(self, config: dict | None, objective: dict, definition: dict,
                            ranges: list, auto_static: dict) -> list[dict]:
        """The parent tuning jobs of a warm start, refused as "Run a Warm Start Hyperparameter
        Tuning Job" (SageMaker Developer Guide, Warm Start Tuning Restrictions) states: each
        parent in a terminal state, the same objective metric, the same number of static
        plus tunable hyperparameters, no hyperparameter changing its type; with
        IdenticalDataAndAlgorithm, the same training image. (At most 5 parents: botocore's
        model. Not checked: the limit of 10 changes from tunable to static.)"""
        if not config:
            return []
        parents = [self.tuning_job(p["HyperParameterTuningJobName"]) for p in config["ParentHyperParameterTuningJobs"]]
        names = lambda ranges_or_spec: {r.name: r.kind for r in ranges_or_spec}  # noqa: E731
        static = {k for k in {**definition.get("StaticHyperParameters", {}), **auto_static} if not k.startswith("_")}
        for parent in parents:
            title = parent["HyperParameterTuningJobName"]
            if parent["HyperParameterTuningJobStatus"] not in ("Completed", "Stopped", "Failed"):
                raise invalid(f"Parent tuning job {title} is {parent['HyperParameterTuningJobStatus']}: every parent "
                              "of a warm start must be Completed, Stopped or Failed.")
            parent_config = parent["HyperParameterTuningJobConfig"]
            if parent_config["HyperParameterTuningJobObjective"]["MetricName"] != objective["MetricName"]:
                raise invalid(f"The objective metric {objective['MetricName']} differs from parent tuning job {title}'s "
                              f"{parent_config['HyperParameterTuningJobObjective']['MetricName']}.")
            parent_ranges = names(self._ranges(parent_config, parent["TrainingJobDefinition"]["AlgorithmSpecification"]
                                               .get("TrainingImage") or "")[0])
            parent_static = {k for k in parent["TrainingJobDefinition"].get("StaticHyperParameters", {})
                             if not k.startswith("_")}
            if len(parent_static | set(parent_ranges)) != len(static | set(names(ranges))):
                raise invalid(f"The total number of static plus tunable hyperparameters must stay the same as in "
                              f"parent tuning job {title} ({len(parent_static | set(parent_ranges))}).")
            changed = sorted(n for n, kind in names(ranges).items() if parent_ranges.get(n, kind) != kind)
            if changed:
                raise invalid(f"Hyperparameter(s) {changed} changed type from parent tuning job {title}.")
            if (config["WarmStartType"] == "IdenticalDataAndAlgorithm" and
                    parent["TrainingJobDefinition"]["AlgorithmSpecification"].get("TrainingImage")
                    != definition["AlgorithmSpecification"].get("TrainingImage")):
                raise invalid(f"IdenticalDataAndAlgorithm needs the training image of parent tuning job {title}.")
        return parents

    def _prior_trials(self, parents: list[dict], ranges: list) -> list:
        """The parents' scored trials as (position in this job's ranges, objective value): what
        the search starts from (warm start is not recursive: the parents' own parents are not
        read). A trial whose tuned value lies outside a new range is left out."""
        prior = []
        with self.lock:
            trials = [t for parent in parents for t in self.tuning_trials[parent["HyperParameterTuningJobName"]]]
        for trial in trials:
            metric = trial.get("FinalHyperParameterTuningJobObjectiveMetric")
            tuned = trial["TunedHyperParameters"]
            if metric is None or any(r.name not in tuned for r in ranges):
                continue
            position = [r.to_position(tuned[r.name]) for r in ranges]
            if None not in position:
                prior.append((np.array(position), metric["Value"]))
        return prior

    def _tune(self, job: dict, search, objective: dict, max_jobs: int, parallel: int, region: str,
              prior: list | None = None, parents: list[dict] | None = None) -> None:
        name, maximize = job["HyperParameterTuningJobName"], objective["Type"] == "Maximize"
        history: list = list(prior or [])  # (position in the ranges, objective value) of finished jobs
        issued = 0
        try:
            with ThreadPoolExecutor(parallel, thread_name_prefix=f"tune-{name}") as pool:
                running: dict = {}
                while (issued < max_jobs and name not in self.stop_requested) or running:
                    free = min(parallel - len(running), max_jobs - issued)
                    if free > 0 and name not in self.stop_requested:
                        batch = search.suggest(history, free, maximize)
                        if not batch:
                            max_jobs = issued  # a grid that is exhausted
                        for position in batch:
                            issued += 1
                            trial = f"{name}-{issued:03d}-{uuid.uuid4().hex[:8]}"
                            future = pool.submit(self._trial, job, trial, search.values(position), objective, region)
                            running[future] = position
                    if running:
                        done, _ = wait(running, return_when=FIRST_COMPLETED)
                        for future in done:
                            value = future.result()
                            position = running.pop(future)
                            if value is not None:
                                history.append((position, value))
            self._finish_tuning(job, maximize, parents or [])
        except Exception as err:  # a bug or a bad definition: the tuning job fails, saying why
            job["HyperParameterTuningJobStatus"] = "Failed"
            job["FailureReason"] = failure_reason(err)
        finally:
            job["HyperParameterTuningEndTime"] = job["LastModifiedTime"] = now()
            self._consumed(job)

    def _trial(self, tuning_job: dict, name: str, values: dict[str, str], objective: dict, region: str) -> float | None:
        """One training job of a tuning job; returns its objective metric, or None."""
        definition = tuning_job["TrainingJobDefinition"]
        counters, objectives = tuning_job["TrainingJobStatusCounters"], tuning_job["ObjectiveStatusCounters"]
        with self.lock:
            counters["InProgress"] += 1
            objectives["Pending"] += 1
        hyperparameters = {**definition["StaticHyperParameters"], **values}  # carries _tuning_objective_metric
        request = {k: definition[k] for k in ("AlgorithmSpecification", "RoleArn", "InputDataConfig", "OutputDataConfig",
                                             "ResourceConfig", "StoppingCondition", "VpcConfig", "Environment",
                                             "EnableNetworkIsolation", "CheckpointConfig") if k in definition}
        request.update(TrainingJobName=name, HyperParameters=hyperparameters)
        configs = (definition.get("HyperParameterTuningResourceConfig") or {}).get("InstanceConfigs")
        if "ResourceConfig" not in request and configs:  # "Prioritized": the first one, always available offline
            request["ResourceConfig"] = dict(configs[0])
        request["AlgorithmSpecification"] = {k: v for k, v in request["AlgorithmSpecification"].items()
                                             if k != "AlgorithmName" or v}
        self.create_training_job(request, region)
        job = self.training_job(name)
        job["TuningJobArn"] = tuning_job["HyperParameterTuningJobArn"]
        while job["TrainingJobStatus"] in ("InProgress", "Stopping"):
            time.sleep(0.05)
        metrics = {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])}
        value = metrics.get(objective["MetricName"])
        summary = {"TrainingJobName": name, "TrainingJobArn": job["TrainingJobArn"],
                   "TuningJobName": tuning_job["HyperParameterTuningJobName"], "CreationTime": job["CreationTime"],
                   "TrainingStartTime": job.get("TrainingStartTime"), "TrainingEndTime": job.get("TrainingEndTime"),
                   "TrainingJobStatus": job["TrainingJobStatus"], "TunedHyperParameters": values,
                   "ObjectiveStatus": "Succeeded" if value is not None else "Failed"}
        if value is not None:
            summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": objective["Type"], "MetricName": objective["MetricName"], "Value": float(value)}
        if job.get("FailureReason"):
            summary["FailureReason"] = job["FailureReason"]
        elif value is None:
            summary["FailureReason"] = f"The training job did not report the objective metric {objective['MetricName']}."
        with self.lock:
            self._count_not_improving(tuning_job, objective, value)
            self.tuning_trials[tuning_job["HyperParameterTuningJobName"]].append(summary)
            counters["InProgress"] -= 1
            status = job["TrainingJobStatus"]
            counters["Completed" if status == "Completed" else "Stopped" if status == "Stopped" else "NonRetryableError"] += 1
            objectives["Pending"] -= 1
            objectives["Succeeded" if value is not None else "Failed"] += 1
            tuning_job["LastModifiedTime"] = now()
            self._consumed(tuning_job)
        return value

    @staticmethod
    def _consumed(job: dict) -> None:
        end = job.get("HyperParameterTuningEndTime") or now()
        job["ConsumedResources"] = {"RuntimeInSeconds": max(1, int((end - job["CreationTime"]).total_seconds()))}

    def _count_not_improving(self, tuning_job: dict, objective: dict, value: float | None) -> None:
        """TuningJobCompletionDetails.NumberOfTrainingJobsObjectiveNotImproving: training jobs
        since the best objective last improved by more than 1% (its API reference: "not
        improving (1% or less)"), in the order they finished."""
        details = tuning_job["TuningJobCompletionDetails"]
        scored = [t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
                  for t in self.tuning_trials[tuning_job["HyperParameterTuningJobName"]]
                  if "FinalHyperParameterTuningJobObjectiveMetric" in t]
        best = (max if objective["Type"] == "Maximize" else min)(scored) if scored else None
        improved = value is not None and (best is None or (
            value - best > 0.01 * abs(best) if objective["Type"] == "Maximize" else best - value > 0.01 * abs(best)))
        details["NumberOfTrainingJobsObjectiveNotImproving"] = (
            0 if improved else details["NumberOfTrainingJobsObjectiveNotImproving"] + 1)

    def _finish_tuning(self, job: dict, maximize: bool, parents: list[dict]) -> None:
        name = job["HyperParameterTuningJobName"]
        scored = [t for t in self.tuning_trials[name] if "FinalHyperParameterTuningJobObjectiveMetric" in t]
        key = lambda t: t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]  # noqa: E731
        best = max if maximize else min
        if scored:
            job["BestTrainingJob"] = best(scored, key=key)
        if (job.get("WarmStartConfig") or {}).get("WarmStartType") == "IdenticalDataAndAlgorithm":
            # the best of this job's and its parents' training jobs (Developer Guide, Types of
            # Warm Start Tuning Jobs: OverallBestTrainingJob)
            everything = scored + [t for p in parents for t in self.tuning_trials[p["HyperParameterTuningJobName"]]
                                   if "FinalHyperParameterTuningJobObjectiveMetric" in t]
            if everything:
                job["OverallBestTrainingJob"] = best(everything, key=key)
        if name in self.stop_requested:
            job["HyperParameterTuningJobStatus"] = "Stopped"
        elif scored:
            job["HyperParameterTuningJobStatus"] = "Completed"
        else:
            job["HyperParameterTuningJobStatus"] = "Failed"
            reasons = {t.get("FailureReason", "") for t in self.tuning_trials[name]}
            job["FailureReason"] = "No training job reported the objective metric. " + " | ".join(sorted(reasons))[:900]

    def stop_hyper_parameter_tuning_job(self, name: str) -> None:
        self._request_stop(self.tuning_job(name), "HyperParameterTuningJobStatus", name, "tuning job")
