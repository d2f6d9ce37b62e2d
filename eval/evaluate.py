"""Metrics of a logged run, computed from its logged test predictions and written back to it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dataset.config import load_dataset_config
from eval.analysis import log_analysis
from eval.metrics import confusion_f1, fnc_score, multi_label_metrics, single_label_metrics
from eval.plots import confusion_figure, label_confusion
from newslab.errors import NewslabError
from newslab.schema import Schema, load_schema
from newslab.settings import Settings, get_settings
from training import tracking
from training.tracking import PREDICTIONS

PREFIX = "test_"
CONFUSION = "plots/confusion_matrix.png"
CHAMPION = "champion"  #: the alias of the best model of a task and dataset


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


HEADLINE = ("macro_f1", "micro_f1", "accuracy", "subset_accuracy", "fnc_score", "f_avg")


def _single_label_headline(
    y: np.ndarray, p: np.ndarray, codes: list[str], extra: tuple[str, ...], unrelated: int
) -> dict:
    """accuracy, macro-F1 (classes present in the gold sample), micro-F1 and the extra metrics of
    integer-coded labels, from one confusion matrix: the bootstrap's inner loop."""
    cm, f1 = confusion_f1(y, p, len(codes))
    tp = np.diag(cm).astype(float)
    present = cm.sum(axis=1) > 0
    out = {"accuracy": tp.sum() / len(y), "micro_f1": tp.sum() / len(y), "macro_f1": f1[present].mean()}
    if "fnc_score" in extra:  # the official weights: 0.25 related/unrelated right, 0.75 more for the stance
        related_y, related_p = y != unrelated, p != unrelated
        score = 0.25 * (related_y == related_p).sum() + 0.75 * (related_y & (y == p)).sum()
        out["fnc_score"] = score / (related_y.sum() + 0.25 * (~related_y).sum())
    if "f_avg" in extra:
        out["f_avg"] = (f1[codes.index("favor")] + f1[codes.index("against")]) / 2
    return out


def bootstrap_intervals(
    predictions: pd.DataFrame,
    task_name: str,
    dataset: str,
    schema: Schema,
    n_boot: int = 200,
    seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """95 % percentile intervals of the headline metrics, resampling test items with replacement."""
    rng = np.random.default_rng(seed)
    task = schema.task(task_name)
    draws: dict[str, list[float]] = {}
    if task.multi_label:
        for _ in range(n_boot):
            sample = predictions.iloc[rng.integers(0, len(predictions), len(predictions))]
            for name, value in compute_metrics(sample, task_name, dataset, schema).items():
                if name in HEADLINE:
                    draws.setdefault(name, []).append(value)
    else:
        codes = task.codes
        index = {code: i for i, code in enumerate(codes)}
        y = np.array([index[g] for g in predictions["gold"]])
        p = np.array([index[x] for x in predictions["pred"]])
        extra = load_dataset_config(base_dataset_name(dataset)).extra_metrics
        unrelated = next((index[lab.code] for lab in task.labels if not lab.related), -1)
        for _ in range(n_boot):
            rows = rng.integers(0, len(y), len(y))
            for name, value in _single_label_headline(y[rows], p[rows], codes, extra, unrelated).items():
                draws.setdefault(name, []).append(value)
    return {name: tuple(np.percentile(values, [2.5, 97.5]).tolist()) for name, values in draws.items()}


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
        raise NewslabError(f"run {run_id!r} not found in {settings.resolved_tracking_uri}.") from None
    tags = run.data.tags
    if "newslab.task" not in tags:
        raise NewslabError(f"run {run_id}: not a newslab training run (no newslab.task tag).")
    predictions = load_predictions(run_id)
    task_name, dataset = tags["newslab.task"], tags["newslab.dataset"]
    metrics = compute_metrics(predictions, task_name, dataset, schema)
    import time

    now = int(time.time() * 1000)
    intervals = bootstrap_intervals(predictions, task_name, dataset, schema, n_boot) if n_boot else {}
    logged = dict(metrics)
    for name, (low, high) in intervals.items():
        logged[f"{name}_ci_low"], logged[f"{name}_ci_high"] = low, high
    client.log_batch(run_id, metrics=[Metric(PREFIX + k, v, now, 0) for k, v in logged.items()])
    task = schema.task(task_name)
    title = f"{tags.get('newslab.experiment', run_id)}: {dataset} test"
    matrix = label_confusion(predictions["gold"], predictions["pred"], task.codes, task.multi_label)
    figure = confusion_figure(matrix, task.codes, title)
    client.log_figure(run_id, figure, CONFUSION)
    import matplotlib.pyplot as plt

    plt.close(figure)
    analysed = log_analysis(client, run_id, predictions, task, title)
    client.log_batch(run_id, metrics=[Metric(PREFIX + k, v, now, 0) for k, v in analysed.items()])
    metrics.update(analysed)
    if run.data.params.get("dataset.limit") in (None, "None", ""):  # slices do not compete
        register_if_best(client, run, task_name, dataset, metrics)
    return metrics


def primary_metric(metrics: dict[str, float]) -> str:
    """The figure runs of one task and dataset are ranked by: the benchmark's own, else macro-F1."""
    return next(m for m in ("fnc_score", "f_avg", "macro_f1") if m in metrics)


def registered_name(task: str, dataset: str) -> str:
    return f"newslab-{task}-{dataset}"


def register_if_best(client, run, task: str, dataset: str, metrics: dict[str, float]) -> bool:  # type: ignore[no-untyped-def]
    """Register the run's model and move the ``champion`` alias to it when it beats the champion."""
    from mlflow.exceptions import MlflowException

    outputs = run.outputs.model_outputs if run.outputs else []
    if not outputs:
        return False
    name = registered_name(task, dataset)
    metric = primary_metric(metrics)
    try:
        champion = client.get_model_version_by_alias(name, CHAMPION)
        best = float(champion.tags.get(PREFIX + metric, "-inf"))
    except MlflowException:
        best = float("-inf")
    if metrics[metric] <= best:
        return False
    import mlflow

    version = mlflow.register_model(f"models:/{outputs[0].model_id}", name)
    client.set_registered_model_alias(name, CHAMPION, version.version)
    client.set_model_version_tag(name, version.version, f"{PREFIX}{metric}", str(metrics[metric]))
    return True
