"""The results report: one static HTML page (self-contained) and a Markdown version.

From MLflow: the leaderboard (the latest evaluated run per experiment and dataset, beside
the published figures), then per dataset each run's metrics, confusion matrix, reliability
diagram, per-class F1, breakdowns by language / source / target and error analysis, and
the latest learning curve per experiment where one was logged (runs tagged
``newslab.kind=learning_curve`` with ``plots/learning_curve.png``). Every figure names the
MLflow run it comes from.

Written to ``data/reports/`` (``report.html``; ``report.md`` with its PNGs in ``figures/``),
each file atomically, and logged as the artifacts of a run ``report`` in the MLflow
experiment ``newslab-reports``.
"""

from __future__ import annotations

import base64
import io
import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from core import tracking
from core.errors import NewslabError
from core.files import atomic_write
from core.schema import Schema, load_schema
from core.settings import Settings, get_settings
from eval.analysis import BREAKDOWNS, ERRORS, RELIABILITY
from eval.breakdowns import GroupMetrics, from_frame
from eval.errors import ErrorAnalysis
from eval.evaluate import CONFUSION
from eval.results import ResultRow, latest_runs, with_published

EXPERIMENT = "newslab-reports"
RUN_NAME = "report"
LEARNING_CURVE_KIND = "learning_curve"
LEARNING_CURVE = "plots/learning_curve.png"
HTML = "report.html"
MARKDOWN = "report.md"
FIGURES = "figures"
#: leaderboard columns: (metric, heading, as a percentage)
COLUMNS = (
    ("macro_f1", "macro F1", False),
    ("accuracy", "accuracy", False),
    ("fnc_score", "FNC score", True),
    ("f_avg", "F avg", False),
    ("ece", "ECE", False),
)
SNIPPET_SHOWN = 200


@dataclass(frozen=True)
class Figure:
    name: str  #: file stem, unique in the report (``<run id>-<kind>``)
    title: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class RunSection:
    run_id: str
    experiment_id: str
    system: str
    dataset: str
    task: str
    metrics: dict[str, float]
    figures: list[Figure] = field(default_factory=list)
    breakdowns: list[GroupMetrics] = field(default_factory=list)
    errors: ErrorAnalysis | None = None
    missing: list[str] = field(default_factory=list)  #: artifacts the run lacks


@dataclass(frozen=True)
class LearningCurve:
    run_id: str
    experiment_id: str
    system: str  #: the experiment config, or the MLflow experiment's name
    figure: Figure


@dataclass(frozen=True)
class DatasetSection:
    dataset: str
    runs: list[RunSection]
    learning_curves: list[LearningCurve] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    created: str
    tracking_uri: str  #: without credentials
    leaderboard: list[ResultRow]
    datasets: list[DatasetSection]
    run_url: str | None = None  #: ``...{experiment_id}...{run_id}`` for a tracking server's UI

    def link(self, experiment_id: str, run_id: str) -> str | None:
        return self.run_url.format(experiment_id=experiment_id, run_id=run_id) if self.run_url else None

    @property
    def figures(self) -> list[Figure]:
        out = [f for d in self.datasets for r in d.runs for f in r.figures]
        return out + [c.figure for d in self.datasets for c in d.learning_curves]


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    markdown: Path
    figures: list[Path]
    run_id: str | None = None  #: the MLflow run the report was logged to


# --- collecting from MLflow -------------------------------------------------------------


def redact(uri: str) -> str:
    """The tracking URI without a user name or password."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = "***@" + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def png_of(figure) -> bytes:  # type: ignore[no-untyped-def]
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()


def class_f1_figure(metrics: dict[str, float], codes: list[str], title: str):  # type: ignore[no-untyped-def]
    """Horizontal bars of each label's test F1, its test support beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, max(2.5, 0.32 * len(codes) + 1.2)))
    values = [metrics.get(f"f1_{code}", 0.0) for code in codes]
    positions = range(len(codes))
    ax.barh(positions, values, color="#4c72b0")
    for y, (code, value) in enumerate(zip(codes, values, strict=True)):
        support = metrics.get(f"support_{code}")
        note = f"{value:.2f}" + (f" (n={support:.0f})" if support is not None else "")
        ax.text(min(value + 0.01, 0.75), y, note, va="center", fontsize=8)
    ax.set_yticks(list(positions), codes)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1")
    ax.set_title(title)
    fig.tight_layout()
    return fig


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


def collect(
    run_ids: list[str] | None = None, settings: Settings | None = None, schema: Schema | None = None
) -> Report:
    """Everything the report shows, read from MLflow (the given runs, or the latest per experiment)."""
    settings = settings or get_settings()
    schema = schema or load_schema(settings.schema_path)
    uri = tracking.connect(settings)
    from mlflow import MlflowClient

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


# --- rendering ----------------------------------------------------------------------------


def format_metric(metrics: dict[str, float], name: str, percent: bool) -> str:
    value = metrics.get(name)
    if value is None:
        return ""
    low, high = metrics.get(f"{name}_ci_low"), metrics.get(f"{name}_ci_high")
    if percent:
        ci = f" [{100 * low:.1f}–{100 * high:.1f}]" if low is not None and high is not None else ""
        return f"{100 * value:.2f} %{ci}"
    ci = f" [{low:.3f}–{high:.3f}]" if low is not None and high is not None else ""
    return f"{value:.3f}{ci}"


def _snippet(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= SNIPPET_SHOWN else text[: SNIPPET_SHOWN - 1] + "…"


def _context(report: Report) -> dict:
    notes: list[str] = []
    board = []
    for row in report.leaderboard:
        if not row.ours and row.source not in notes:
            notes.append(row.source)
        board.append(
            {
                "row": row,
                "cells": [format_metric(row.metrics, name, pct) for name, _, pct in COLUMNS],
                "note": None if row.ours else notes.index(row.source) + 1,
            }
        )
    experiments = {s.run_id: s.experiment_id for d in report.datasets for s in d.runs}
    return {
        "report": report,
        "board": board,
        "notes": notes,
        "columns": COLUMNS,
        "experiments": experiments,
        "fmt": format_metric,
        "snippet": _snippet,
    }


TEMPLATE = Path(__file__).with_name("report.html.j2")


def render_html(report: Report) -> str:
    """The self-contained page: inline CSS, figures as base64 data URIs, nothing fetched."""
    import jinja2

    env = jinja2.Environment(
        autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined
    )
    return env.from_string(TEMPLATE.read_text(encoding="utf-8")).render(**_context(report))


def _cell(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def _table(headings: list[str], rows: list[list[str]], right: set[int] | None = None) -> list[str]:
    right = right or set()
    align = ["---:" if i in right else "---" for i in range(len(headings))]
    lines = ["| " + " | ".join(headings) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def render_markdown(report: Report, figures_dir: str = FIGURES) -> str:
    """The Markdown version; its figures are the PNGs under ``figures_dir`` (relative)."""
    context = _context(report)
    metric_columns = list(range(2, 2 + len(COLUMNS)))
    lines = [
        "# newslab results report",
        "",
        f"Created {report.created} from MLflow `{report.tracking_uri}`. Every figure names the MLflow run "
        "it comes from.",
        "",
        "## Leaderboard",
        "",
        "Test-set results: the latest evaluated run per experiment and dataset (**bold**), beside published "
        "systems; [95 % bootstrap interval].",
        "",
    ]
    rows, last = [], None
    for entry in context["board"]:
        row = entry["row"]
        name = f"**{row.system}**" if row.ours else row.system
        source = f"`{row.source}`" if row.ours else f"published [{entry['note']}]"
        rows.append([row.dataset if row.dataset != last else "", name, *entry["cells"], source])
        last = row.dataset
    headings = ["dataset", "system", *(heading for _, heading, _ in COLUMNS), "MLflow run"]
    lines += _table(headings, rows, set(metric_columns))
    lines += [f"[{i}] {_cell(note)}  " for i, note in enumerate(context["notes"], start=1)]
    lines.append("")
    for section in report.datasets:
        lines += [f"## {section.dataset}", ""]
        for run in section.runs:
            lines += [f"### {run.system}: run `{run.run_id}`", ""]
            link = report.link(run.experiment_id, run.run_id)
            if link:
                lines += [f"[MLflow run]({link})", ""]
            shown = [
                f"{heading} {format_metric(run.metrics, name, pct)}"
                for name, heading, pct in COLUMNS
                if name in run.metrics
            ]
            lines += [f"task `{run.task}`; " + "; ".join(shown), ""]
            if run.missing:
                lines += [
                    f"Not logged with this run: {', '.join(run.missing)} (evaluate it again: "
                    f"`newslab eval {run.run_id}`).",
                    "",
                ]
            lines += [f"![{fig.title}]({figures_dir}/{fig.name}.png)" for fig in run.figures]
            lines.append("")
            if run.breakdowns:
                lines += [f"#### Breakdowns (run `{run.run_id[:8]}`)", ""]
                lines += _table(
                    ["by", "value", "n", "accuracy", "macro F1"],
                    [
                        [g.column, g.value, str(g.n), f"{g.accuracy:.3f}", f"{g.macro_f1:.3f}"]
                        for g in run.breakdowns
                    ],
                    {2, 3, 4},
                )
            if run.errors:
                lines += [f"#### Most confused label pairs (run `{run.run_id[:8]}`)", ""]
                lines += (
                    _table(
                        ["gold", "predicted", "items", "examples"],
                        [
                            [
                                p.gold,
                                p.pred,
                                str(p.count),
                                " / ".join(f"{e.id}: {_snippet(e.snippet)}" for e in p.examples),
                            ]
                            for p in run.errors.confused
                        ],
                        {2},
                    )
                    if run.errors.confused
                    else ["No errors.", ""]
                )
                lines += [f"#### Most confident errors (run `{run.run_id[:8]}`)", ""]
                lines += (
                    _table(
                        ["item", "gold", "predicted", "probability", "text"],
                        [
                            [e.id, e.gold, e.pred, f"{e.probability:.3f}", _snippet(e.snippet)]
                            for e in run.errors.confident
                        ],
                        {3},
                    )
                    if run.errors.confident
                    else ["None (no wrong prediction with a probability).", ""]
                )
        for curve in section.learning_curves:
            lines += [
                f"### Learning curve: {curve.system}: run `{curve.run_id}`",
                "",
                f"![{curve.figure.title}]({figures_dir}/{curve.figure.name}.png)",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


# --- writing ------------------------------------------------------------------------------


def write_report(report: Report, out: Path) -> ReportFiles:
    """Figures first, then the Markdown, then the HTML page, each atomically; figures of an older
    report that this one no longer shows are removed last."""
    figures_dir = out / FIGURES
    written = []
    for figure in report.figures:
        path = figures_dir / f"{figure.name}.png"
        atomic_write(path, figure.png)
        written.append(path)
    markdown, html = out / MARKDOWN, out / HTML
    atomic_write(markdown, render_markdown(report).encode("utf-8"))
    atomic_write(html, render_html(report).encode("utf-8"))
    if figures_dir.is_dir():
        for stale in set(figures_dir.glob("*.png")) - set(written):
            stale.unlink()
    return ReportFiles(html, markdown, written)


def log_report(files: ReportFiles, report: Report, settings: Settings | None = None) -> str:
    """Log the written report as the artifacts of a run ``report`` in ``newslab-reports``."""
    settings = settings or get_settings()
    tracking.connect(settings)
    import mlflow

    tracking.ensure_experiment(EXPERIMENT, settings)
    runs = [s.run_id for d in report.datasets for s in d.runs]
    tags = {"newslab.kind": "report", "newslab.report.runs": ",".join(runs)}
    with mlflow.start_run(run_name=RUN_NAME, tags=tags) as run:
        mlflow.log_artifact(str(files.html))
        mlflow.log_artifact(str(files.markdown))
        for path in files.figures:
            mlflow.log_artifact(str(path), artifact_path=FIGURES)
    return run.info.run_id


def build_report(
    run_ids: list[str] | None = None,
    out: Path | None = None,
    settings: Settings | None = None,
    schema: Schema | None = None,
    log: bool = True,
) -> ReportFiles:
    """Collect, write to ``out`` (default ``data/reports``) and log the report; the files written."""
    settings = settings or get_settings()
    report = collect(run_ids, settings, schema)
    files = write_report(report, out or settings.reports_dir)
    if not log:
        return files
    return ReportFiles(files.html, files.markdown, files.figures, log_report(files, report, settings))
