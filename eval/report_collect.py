"""The report's data, read from MLflow: the leaderboard rows, each run's metrics, figures,
breakdowns and error analysis, and the latest learning curve per experiment.

Nothing here formats or writes: a run's missing artifacts are listed, not fatal, so an
older run still shows what it has.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from core import tracking
from core.errors import NewslabError
from core.redact import redact
from core.schema import Schema, load_schema
from core.settings import Settings, get_settings
from eval.analysis import BREAKDOWNS, ERRORS, RELIABILITY
from eval.breakdowns import GroupMetrics, from_frame
from eval.errors import ErrorAnalysis
from eval.evaluate import CONFUSION
from eval.plots import class_f1_figure, png_of
from eval.report_model import DatasetSection, Figure, LearningCurve, Report, RunSection
from eval.results import ResultRow, latest_runs, with_published

LEARNING_CURVE_KIND = "learning_curve"
LEARNING_CURVE = "plots/learning_curve.png"


def _download(run_id: str, path: str, into: Path) -> Path | None:
    import mlflow

    try:
        return Path(
            mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path, dst_path=str(into))
        )
    except Exception:  # an MlflowException or an OSError: the run has no such artifact
        return None


def _codes(task: str, metrics: dict[str, float], schema: Schema) -> list[str]:
    try:
        return schema.task(task).codes
    except Exception:  # a task since removed from the schema: the labels the run has figures for
        return [k[3:] for k in metrics if k.startswith("f1_")]


def run_section(row: ResultRow, client, schema: Schema, into: Path) -> RunSection:  # type: ignore[no-untyped-def]
    """What the report shows of one of our runs, from its metrics and artifacts."""
    run = client.get_run(row.source)
    run_id, tags = row.source, run.data.tags
    short = run_id[:8]
    title = f"{row.system} ({short}): {row.dataset} test"
    figures: list[Figure] = []
    missing: list[str] = []
    for artifact, kind, what in (
        (CONFUSION, "confusion", "confusion matrix"),
        (RELIABILITY, "reliability", "reliability diagram"),
    ):
        local = _download(run_id, artifact, into / run_id)
        if local is None:
            missing.append(artifact)
        else:
            figures.append(Figure(f"{run_id}-{kind}", f"{what}, run {short}", local.read_bytes()))
    codes = _codes(tags.get("newslab.task", ""), row.metrics, schema)
    if any(f"f1_{code}" in row.metrics for code in codes):
        png = png_of(class_f1_figure(row.metrics, codes, f"per-class F1: {title}"))
        figures.append(Figure(f"{run_id}-class-f1", f"per-class F1, run {short}", png))
    groups: list[GroupMetrics] = []
    local = _download(run_id, BREAKDOWNS, into / run_id)
    if local is None:
        missing.append(BREAKDOWNS)
    else:
        groups = from_frame(pd.read_csv(local, keep_default_na=False, dtype={"value": str}))
    errors = None
    local = _download(run_id, ERRORS, into / run_id)
    if local is None:
        missing.append(ERRORS)
    else:
        errors = ErrorAnalysis.from_dict(json.loads(local.read_text(encoding="utf-8")))
    return RunSection(
        run_id=run_id,
        experiment_id=run.info.experiment_id,
        system=row.system,
        dataset=row.dataset,
        task=tags.get("newslab.task", ""),
        metrics=row.metrics,
        figures=figures,
        breakdowns=groups,
        errors=errors,
        missing=missing,
    )


def learning_curves(into: Path) -> list[tuple[str | None, LearningCurve]]:
    """The latest learning curve per MLflow experiment and config, with its dataset tag (if any)."""
    import mlflow

    runs = mlflow.search_runs(
        search_all_experiments=True,
        filter_string=f"tags.`newslab.kind` = '{LEARNING_CURVE_KIND}'",
        order_by=["attributes.start_time DESC"],
        output_format="list",
    )
    found: dict[tuple[str, str], tuple[str | None, LearningCurve]] = {}
    names: dict[str, str] = {}
    for run in runs:
        experiment_id, tags = run.info.experiment_id, run.data.tags
        if experiment_id not in names:
            experiment = mlflow.get_experiment(experiment_id)
            names[experiment_id] = experiment.name if experiment else experiment_id
        system = tags.get("newslab.experiment") or names[experiment_id]
        key = (experiment_id, system)
        if key in found:
            continue
        local = _download(run.info.run_id, LEARNING_CURVE, into / run.info.run_id)
        if local is None:
            continue
        figure = Figure(
            f"{run.info.run_id}-learning-curve",
            f"learning curve, run {run.info.run_id[:8]}",
            local.read_bytes(),
        )
        found[key] = (
            tags.get("newslab.dataset"),
            LearningCurve(run.info.run_id, experiment_id, system, figure),
        )
    return list(found.values())


def _rows(run_ids: list[str] | None, settings: Settings) -> list[ResultRow]:
    """The runs to report (the given ones, or the latest per experiment); refused when none or
    some are not evaluated newslab runs."""
    rows = latest_runs(run_ids or None, settings=settings)
    if not rows:
        if run_ids:
            raise NewslabError(
                f"none of the runs {', '.join(run_ids)} is an evaluated newslab run.",
                "Evaluate them first: `newslab eval RUN...`.",
            )
        raise NewslabError("no evaluated runs yet.", "Run `newslab run` or `newslab train CONFIG` first.")
    if run_ids:
        unknown = sorted(set(run_ids) - {r.source for r in rows})
        if unknown:
            raise NewslabError(
                f"not evaluated newslab runs: {', '.join(unknown)}.",
                "Evaluate them first: `newslab eval RUN...`.",
            )
    return rows


def collect(
    run_ids: list[str] | None = None, settings: Settings | None = None, schema: Schema | None = None
) -> Report:
    """Everything the report shows, read from MLflow (the given runs, or the latest per experiment)."""
    settings = settings or get_settings()
    schema = schema or load_schema(settings.schema_path)
    uri = tracking.connect(settings)
    from mlflow import MlflowClient

    rows = _rows(run_ids, settings)
    client = MlflowClient()
    with tempfile.TemporaryDirectory(prefix="newslab-report-") as tmp:
        sections = [run_section(row, client, schema, Path(tmp)) for row in rows]
        curves = learning_curves(Path(tmp))
    datasets = []
    for dataset in dict.fromkeys(s.dataset for s in sections):
        runs = [s for s in sections if s.dataset == dataset]
        experiments = {s.experiment_id for s in runs}
        matched = [
            c for tag, c in curves if tag == dataset or (tag is None and c.experiment_id in experiments)
        ]
        datasets.append(DatasetSection(dataset, runs, matched))
    shown = redact(uri)
    run_url = None
    if shown.startswith(("http://", "https://")):
        run_url = shown.rstrip("/") + "/#/experiments/{experiment_id}/runs/{run_id}"
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Report(created, shown, with_published(rows), datasets, run_url)
