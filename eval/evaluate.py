"""Metrics of a logged run, computed from its logged test predictions and written back to it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dataset.config import load_dataset_config
from eval.metrics import fnc_score, multi_label_metrics, single_label_metrics
from newslab.errors import NewslabError
from newslab.schema import Schema, load_schema
from newslab.settings import Settings, get_settings
from training import tracking
from training.train import PREDICTIONS

PREFIX = "test_"


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


def base_dataset_name(name: str) -> str:
    """``fnc1_n200`` (a slice) -> ``fnc1``."""
    stem, sep, tail = name.rpartition("_n")
    return stem if sep and tail.isdigit() else name


def compute_metrics(
    predictions: pd.DataFrame, task_name: str, dataset: str, schema: Schema
) -> dict[str, float]:
    task = schema.task(task_name)
    gold, pred = list(predictions["gold"]), list(predictions["pred"])
    if task.multi_label:
        return multi_label_metrics([list(g) for g in gold], [list(p) for p in pred], task.codes)
    metrics = single_label_metrics(gold, pred, task.codes)
    config = load_dataset_config(base_dataset_name(dataset))
    if "fnc_score" in config.extra_metrics:
        unrelated = [label.code for label in task.labels if not label.related]
        if len(unrelated) != 1:
            raise NewslabError(
                f"schema: task {task_name!r} needs exactly one label with `related: false` for the FNC score."
            )
        metrics["fnc_score"] = fnc_score(gold, pred, unrelated=unrelated[0])
    if "f_avg" in config.extra_metrics:
        metrics["f_avg"] = (metrics["f1_favor"] + metrics["f1_against"]) / 2
    return metrics


def evaluate_run(
    run_id: str, settings: Settings | None = None, schema: Schema | None = None
) -> dict[str, float]:
    """Compute the run's test metrics and log them to it as ``test_<metric>``."""
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
        raise NewslabError(f"run {run_id!r} not found in {settings.resolved_tracking_uri}.") from None
    tags = run.data.tags
    if "newslab.task" not in tags:
        raise NewslabError(f"run {run_id}: not a newslab training run (no newslab.task tag).")
    metrics = compute_metrics(load_predictions(run_id), tags["newslab.task"], tags["newslab.dataset"], schema)
    import time

    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric(PREFIX + k, v, now, 0) for k, v in metrics.items()])
    return metrics
