"""The report on disk and in MLflow: files written atomically under one folder, then logged as the
artifacts of a run ``report`` in the experiment ``newslab-reports``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core import tracking
from core.files import atomic_write
from core.settings import Settings, get_settings
from eval.report_model import Report
from eval.report_render import FIGURES, render_html, render_markdown

EXPERIMENT = "newslab-reports"
RUN_NAME = "report"
HTML = "report.html"
MARKDOWN = "report.md"


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    markdown: Path
    figures: list[Path]
    run_id: str | None = None  #: the MLflow run the report was logged to


def write_report(report: Report, out: Path) -> ReportFiles:
    """Figures first, then the Markdown, then the HTML page, each atomically (a reader never sees a
    page whose figures are missing); figures of an older report that this one no longer shows are
    removed last."""
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
