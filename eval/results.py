"""The results table: our latest runs per experiment, beside the published numbers."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table

from core import tracking
from core.settings import Settings, get_settings
from dataset.config import base_dataset_name, load_dataset_config
from eval.columns import cell, shown
from eval.evaluate import CV_KIND, PREFIX


@dataclass(frozen=True)
class ResultRow:
    dataset: str
    system: str
    metrics: dict[str, float]
    source: str  #: an MLflow run id, or where a published figure comes from
    ours: bool


def latest_runs(run_ids: list[str] | None = None, settings: Settings | None = None) -> list[ResultRow]:
    """Our runs (the given ones, or the latest finished one per newslab experiment config).

    Only FINISHED runs with a complete model count: a run killed or failed after an earlier
    evaluation, or one left RUNNING by a process that died (reaped here), is never a result.
    """
    settings = settings or get_settings()
    tracking.connect(settings)
    import mlflow

    tracking.reap()
    client = mlflow.MlflowClient()
    runs = mlflow.search_runs(
        search_all_experiments=True,
        filter_string="tags.`newslab.task` != '' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        output_format="list",
    )
    rows: list[ResultRow] = []
    seen: set[tuple[str, str]] = set()
    if run_ids:
        order = {run_id: i for i, run_id in enumerate(run_ids)}
        runs = sorted((r for r in runs if r.info.run_id in order), key=lambda r: order[r.info.run_id])
    for run in runs:
        tags, metrics = run.data.tags, run.data.metrics
        cv = tags.get("newslab.kind") == CV_KIND  # out-of-fold predictions, no model: a row of its own
        system = tags["newslab.experiment"] + (_cv_label(run.data.params) if cv else "")
        key = (system, tags["newslab.dataset"])
        if (not run_ids and key in seen) or not any(k.startswith(PREFIX) for k in metrics):
            continue
        if not cv and not tracking.model_ready(client, run):
            continue
        seen.add(key)
        rows.append(
            ResultRow(
                dataset=tags["newslab.dataset"],
                system=system,
                metrics={k[len(PREFIX) :]: v for k, v in metrics.items() if k.startswith(PREFIX)},
                source=run.info.run_id,
                ours=True,
            )
        )
    return rows


def _cv_label(params: dict[str, str]) -> str:
    """How a cross-validation row was scored: out-of-fold, k folds, r repeats (repeat 0 pooled)."""
    folds, repeats = params.get("cv.folds", "?"), params.get("cv.repeats", "?")
    return f" (cv {folds}x{repeats}, {params.get('cv.items', 'train')})"


def with_published(rows: list[ResultRow]) -> list[ResultRow]:
    """Each dataset's rows followed by the published figures for it."""
    out: list[ResultRow] = []
    for dataset in dict.fromkeys(r.dataset for r in rows):
        out += [r for r in rows if r.dataset == dataset]
        published: dict[str, dict[str, float]] = {}
        sources: dict[str, str] = {}
        for result in load_dataset_config(base_dataset_name(dataset)).published:
            published.setdefault(result.system, {})[result.metric] = result.value
            sources.setdefault(result.system, result.source)
        out += [ResultRow(dataset, system, m, sources[system], ours=False) for system, m in published.items()]
    return out


def render(rows: list[ResultRow]) -> Table:
    """A table for the terminal: our runs in bold, published figures dimmed, their sources as notes;
    a column for each registry metric that any row has."""
    columns = shown(row.metrics for row in rows)
    table = Table(
        title="Test-set results: newslab runs (MLflow) beside published systems; [95 % bootstrap interval]"
    )
    table.add_column("dataset")
    table.add_column("system")
    for metric in columns:
        table.add_column(metric.title, justify="right")
    table.add_column("run")
    notes: list[str] = []
    last = None
    for row in rows:
        if last is not None and row.dataset != last:
            table.add_section()
        cells = [cell(metric, row.metrics) for metric in columns]
        if row.ours:
            source = row.source[:8]
        else:
            if row.source not in notes:
                notes.append(row.source)
            source = f"published [{notes.index(row.source) + 1}]"
        table.add_row(
            row.dataset if row.dataset != last else "",
            row.system,
            *cells,
            source,
            style="bold" if row.ours else "dim",
        )
        last = row.dataset
    table.caption = "  ".join(f"[{i}] {note}" for i, note in enumerate(notes, start=1))
    return table
