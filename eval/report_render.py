"""The report as text: the HTML page and the Markdown version, each a Jinja template
(``report.html.j2``, ``report.md.j2``) fed the same context, so the two show the same things.

The metric columns come from the registry (``eval.columns``): a new metric module shows up
in both with no change here or in the templates.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from core.metrics import Metric
from eval.columns import ECE, cell, shown
from eval.report_model import Report, RunSection

FIGURES = "figures"  #: the Markdown's figures, relative to it
SNIPPET_SHOWN = 200
#: figures beside the registry's metrics that the report shows after them
ALSO = (ECE,)


def snippet(text: str) -> str:
    """An item's text on one line, cut to ``SNIPPET_SHOWN`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= SNIPPET_SHOWN else text[: SNIPPET_SHOWN - 1] + "…"


def markdown_cell(text: object) -> str:
    """Text that cannot break a Markdown table row (pipes, newlines) or open an HTML tag."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def _metrics_of(run: RunSection) -> list[Metric]:
    return shown([run.metrics], ALSO)


def context(report: Report) -> dict[str, Any]:
    """What both templates are given: the report, the leaderboard's columns and cells, the notes
    the published rows point to, and the formatting helpers."""
    columns = shown((row.metrics for row in report.leaderboard), ALSO)
    notes: list[str] = []
    board = []
    for row in report.leaderboard:
        if not row.ours and row.source not in notes:
            notes.append(row.source)
        board.append(
            {
                "row": row,
                "cells": [cell(metric, row.metrics) for metric in columns],
                "note": None if row.ours else notes.index(row.source) + 1,
            }
        )
    experiments = {s.run_id: s.experiment_id for d in report.datasets for s in d.runs}
    return {
        "report": report,
        "board": board,
        "notes": notes,
        "columns": columns,
        "experiments": experiments,
        "cell": cell,
        "metrics_of": _metrics_of,
        "snippet": snippet,
    }


@cache
def _environment(html: bool):  # type: ignore[no-untyped-def]
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md"] = markdown_cell
    return env


def render_html(report: Report) -> str:
    """The self-contained page: inline CSS, figures as base64 data URIs, nothing fetched."""
    return _environment(True).get_template("report.html.j2").render(**context(report))


def render_markdown(report: Report, figures_dir: str = FIGURES) -> str:
    """The Markdown version; its figures are the PNGs under ``figures_dir`` (relative)."""
    text = _environment(False).get_template("report.md.j2").render(**context(report), figures_dir=figures_dir)
    return text.rstrip() + "\n"
