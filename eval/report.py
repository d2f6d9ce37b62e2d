"""The results report: one static HTML page (self-contained) and a Markdown version.

From MLflow: the leaderboard (the latest evaluated run per experiment and dataset, beside
the published figures), then per dataset each run's metrics, confusion matrix, reliability
diagram, per-class F1, breakdowns by language / source / target and error analysis, and
the latest learning curve per experiment where one was logged (runs tagged
``newslab.kind=learning_curve`` with ``plots/learning_curve.png``). Every figure names the
MLflow run it comes from.

One module per job: ``report_collect`` reads MLflow into ``report_model``'s dataclasses,
``report_render`` fills the templates ``report.html.j2`` and ``report.md.j2``, and
``report_publish`` writes ``data/reports/`` (``report.html``; ``report.md`` with its PNGs in
``figures/``) atomically and logs it to the MLflow experiment ``newslab-reports``.
"""

from __future__ import annotations

from pathlib import Path

from core.schema import Schema
from core.settings import Settings, get_settings
from eval.report_collect import collect
from eval.report_publish import ReportFiles, log_report, write_report


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
