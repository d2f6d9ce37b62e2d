"""Metrics of a logged run, computed from its logged test predictions and written back to it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core import metrics, stats, tracking
from core.errors import NewslabError
from core.redact import redact
from core.schema import Schema, load_schema
from core.settings import Settings, get_settings
from core.tracking import PREDICTIONS
from eval.analysis import log_analysis
from eval.plots import confusion_figure, label_confusion
from training.runner import extra_metrics, primary_metric
from training.train import SELECTION_TAG, selection_metric

PREFIX = "test_"
CONFUSION = "plots/confusion_matrix.png"
CHAMPION = "champion"  #: the alias of the best model of a task and dataset
CV_KIND = "cv"  #: ``newslab.kind`` of a cross-validation run: out-of-fold predictions, no model


def load_predictions(run_id: str) -> pd.DataFrame:
    import mlflow

    try:
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=PREDICTIONS)
    except Exception as exc:  # MlflowException or an OSError from the artifact store
        raise NewslabError(
            f"run {run_id}: no {PREDICTIONS} artifact ({type(exc).__name__}).",
            "Only runs logged by `newslab train` can be evaluated.",
        ) from None
    return pd.read_parquet(Path(local))


def compute_metrics(
    predictions: pd.DataFrame, task_name: str, dataset: str, schema: Schema
) -> dict[str, float]:
    """Every metric of the registry that applies, and the per-label figures, of logged predictions."""
    task = schema.task(task_name)
    extra = extra_metrics(dataset, task)
    scores = metrics.score_matrix(predictions, metrics.Roles.of(task))  # None: a model without scores
    return metrics.compute(list(predictions["gold"]), list(predictions["pred"]), task, extra, scores)


def bootstrap_intervals(
    predictions: pd.DataFrame,
    task_name: str,
    dataset: str,
    schema: Schema,
    n_boot: int = 200,
    seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """95 % percentile intervals of the headline metrics, resampling test items with replacement."""
    task = schema.task(task_name)
    roles = metrics.Roles.of(task)
    chosen = metrics.selected(task, extra_metrics(dataset, task))
    y, p = metrics.encode(list(predictions["gold"]), roles), metrics.encode(list(predictions["pred"]), roles)
    s = metrics.score_matrix(predictions, roles)
    return stats.intervals(
        lambda rows: metrics.from_encoded(y[rows], p[rows], roles, chosen, None if s is None else s[rows]),
        len(y),
        n_boot,
        seed,
    )


def evaluate_run(
    run_id: str,
    settings: Settings | None = None,
    schema: Schema | None = None,
    n_boot: int = 200,
) -> dict[str, float]:
    """Compute the run's test metrics and log them to it as ``test_<metric>``, with 95 % bootstrap
    intervals of the headline metrics as ``test_<metric>_ci_low`` / ``_ci_high``, the expected
    calibration error ``test_ece`` and the analyses of ``eval.analysis`` (reliability diagram,
    breakdowns by language / source / target, error analysis)."""
    settings = settings or get_settings()
    schema = schema or load_schema(settings.schema_path)
    tracking.connect(settings)
    from mlflow import MlflowClient
    from mlflow.entities import Metric
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    try:
        run = client.get_run(run_id)
    except MlflowException:
        raise NewslabError(f"run {run_id!r} not found in {redact(settings.resolved_tracking_uri)}.") from None
    tags = run.data.tags
    if "newslab.task" not in tags:
        raise NewslabError(f"run {run_id}: not a newslab training run (no newslab.task tag).")
    if tracking.reap(run.info.experiment_id):  # a run whose training process died is FAILED now
        run = client.get_run(run_id)
    cv = tags.get("newslab.kind") == CV_KIND
    check_usable(client, run, needs_model=not cv)
    predictions = load_predictions(run_id)
    task_name, dataset = tags["newslab.task"], tags["newslab.dataset"]
    scores = compute_metrics(predictions, task_name, dataset, schema)
    import time

    now = int(time.time() * 1000)
    intervals = bootstrap_intervals(predictions, task_name, dataset, schema, n_boot) if n_boot else {}
    logged = dict(scores)
    for name, (low, high) in intervals.items():
        logged[f"{name}_ci_low"], logged[f"{name}_ci_high"] = low, high
    client.log_batch(run_id, metrics=[Metric(PREFIX + k, v, now, 0) for k, v in logged.items()])
    task = schema.task(task_name)
    title = f"{tags.get('newslab.experiment', run_id)}: {dataset} {'out-of-fold' if cv else 'test'}"
    matrix = label_confusion(predictions["gold"], predictions["pred"], task.codes, task.multi_label)
    figure = confusion_figure(matrix, task.codes, title)
    client.log_figure(run_id, figure, CONFUSION)
    import matplotlib.pyplot as plt

    plt.close(figure)
    analysed = log_analysis(client, run_id, predictions, task, title)
    client.log_batch(run_id, metrics=[Metric(PREFIX + k, v, now, 0) for k, v in analysed.items()])
    scores.update(analysed)
    if not cv and run.data.params.get("dataset.limit") in (None, "None", ""):  # slices do not compete
        register_if_best(
            client, run, task_name, dataset, scores, primary_metric(schema.task(task_name), dataset)
        )
    return scores


def check_usable(client, run, needs_model: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Only a FINISHED run with a complete model (a cross-validation run has none) is scored: a
    killed or failed one is refused by name."""
    run_id, status = run.info.run_id, run.info.status
    if status != "FINISHED":
        raise NewslabError(
            f"run {run_id} is {status}, not FINISHED: its training did not complete.",
            "Train it again (`newslab train CONFIG`); only finished runs are evaluated.",
        )
    if needs_model and not tracking.model_ready(client, run):
        raise NewslabError(
            f"run {run_id} is FINISHED but has no complete logged model.",
            "Train it again (`newslab train CONFIG`).",
        )


def registered_name(task: str, dataset: str) -> str:
    return f"newslab-{task}-{dataset}"


def register_if_best(client, run, task: str, dataset: str, scores: dict[str, float], metric: str) -> bool:  # type: ignore[no-untyped-def]
    """Register the run's model and move the ``champion`` alias to it when its selection score (from
    training data only, ``selection.<metric>``) beats the champion's: the test score is reported
    (tagged on the version) but never chooses. A run without a selection score (older runs) is
    never made champion."""
    from mlflow.exceptions import MlflowException

    if not tracking.usable(client, run):  # a killed run's PENDING model never becomes champion
        return False
    chosen_by = selection_metric(metric)
    score = run.data.metrics.get(chosen_by)
    if score is None:
        return False
    outputs = run.outputs.model_outputs
    name = registered_name(task, dataset)
    try:
        champion = client.get_model_version_by_alias(name, CHAMPION)
        best = float(champion.tags.get(chosen_by, "-inf"))
    except MlflowException:
        best = float("-inf")
    if score <= best:
        return False
    import mlflow

    version = mlflow.register_model(f"models:/{outputs[0].model_id}", name)
    client.set_registered_model_alias(name, CHAMPION, version.version)
    for key, value in (
        (chosen_by, str(score)),
        (SELECTION_TAG, run.data.tags.get(SELECTION_TAG, "")),
        (f"{PREFIX}{metric}", str(scores[metric])),
    ):
        client.set_model_version_tag(name, version.version, key, value)
    return True
