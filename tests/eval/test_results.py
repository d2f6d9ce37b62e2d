"""The results table and the report take their columns from the metric registry: order, headings,
formatting, and a metric added as a module shows up with no other change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rich.console import Console

from core import metrics
from core.metrics import Metric
from eval.columns import ECE, cell, shown, summary
from eval.report_model import DatasetSection, Report, RunSection
from eval.report_render import render_html, render_markdown
from eval.results import ResultRow, render

RUN = "c" * 32


@pytest.fixture
def new_metric(monkeypatch: pytest.MonkeyPatch) -> Iterator[Metric]:
    """A metric registered as a new module of core/metrics would register it; gone after the test."""
    with metrics.REGISTRY.scoped():
        yield _throwaway()
    assert "share_right_test" not in metrics.registry()


def _throwaway() -> Metric:
    return metrics.register(
        Metric(
            "share_right_test",
            "share right (test)",
            "a throwaway metric of this test",
            confusion=lambda cm, roles: float(cm.trace() / max(cm.sum(), 1)),
            percent=True,
        )
    )


def _text(rows: list[ResultRow]) -> str:
    console = Console(record=True, width=250)
    console.print(render(rows))
    return console.export_text()


def test_columns_are_the_registry_metrics_the_rows_have_defaults_first() -> None:
    single = {"accuracy": 0.7, "macro_f1": 0.6, "fnc_score": 0.8, "f1_favor": 0.5}
    published = {"f_avg": 0.685}
    assert [m.name for m in shown([single, published])] == ["macro_f1", "accuracy", "f_avg", "fnc_score"]
    # hamming loss is logged but is no column (column=False)
    multi = {"subset_accuracy": 0.3, "hamming_loss": 0.1, "micro_f1": 0.5, "macro_f1": 0.4, "ece": 0.1}
    assert [m.name for m in shown([multi])] == ["macro_f1", "micro_f1", "subset_accuracy"]
    assert [m.name for m in shown([multi], also=(ECE,))][-1] == "ece"
    assert shown([{"ece": 0.1}]) == [] and shown([]) == []


def test_cells_use_the_metric_format_and_interval() -> None:
    fnc, macro = metrics.get("fnc_score"), metrics.get("macro_f1")
    values = {"fnc_score": 0.8571, "fnc_score_ci_low": 0.851, "fnc_score_ci_high": 0.861, "macro_f1": 0.6}
    assert cell(fnc, values) == "85.71 % [85.1–86.1]"
    assert cell(macro, values) == "0.600"
    assert cell(macro, {"macro_f1_ci_low": 0.5}) == ""
    assert cell(macro, {"macro_f1": float("nan")}) == ""
    assert summary(values) == "macro F1 0.600; FNC score 85.71 % [85.1–86.1]"


def test_terminal_table_headings_and_cells() -> None:
    rows = [
        ResultRow("fnc1", "gbdt", {"macro_f1": 0.61, "fnc_score": 0.857}, RUN, ours=True),
        ResultRow("fnc1", "Talos", {"fnc_score": 0.8202}, "FNC-1 leaderboard", ours=False),
    ]
    text = _text(rows)
    assert "macro F1" in text and "FNC score" in text and "82.02 %" in text and "85.70 %" in text
    assert "accuracy" not in text and "F avg" not in text  # no row has them
    assert "published [1]" in text and "[1] FNC-1 leaderboard" in text


def test_a_new_metric_module_shows_in_the_table_and_the_report(new_metric: Metric) -> None:
    values = {"macro_f1": 0.5, new_metric.name: 0.4321, f"{new_metric.name}_ci_low": 0.4, "ece": 0.05}
    values[f"{new_metric.name}_ci_high"] = 0.47
    rows = [ResultRow("conref_ita", "lr", values, RUN, ours=True)]
    assert "share right (test)" in _text(rows) and "43.21 % [40.0–47.0]" in _text(rows)

    section = RunSection(RUN, "1", "lr", "conref_ita", "stance", values)
    report = Report("now", "sqlite:///x.db", rows, [DatasetSection("conref_ita", [section])])
    html, markdown = render_html(report), render_markdown(report)
    assert "<th>share right (test)</th><th>ECE</th>" in html
    assert '<td class="num">43.21 % [40.0–47.0]</td>' in html
    assert "share right (test) 43.21 % [40.0–47.0]; ECE 0.050; " in html
    assert "| macro F1 | share right (test) | ECE | MLflow run |" in markdown
    assert f"| conref_ita | **lr** | 0.500 | 43.21 % [40.0–47.0] | 0.050 | `{RUN}` |" in markdown
    assert "task `stance`; macro F1 0.500; share right (test) 43.21 % [40.0–47.0]; ECE 0.050\n" in markdown


def test_multi_label_runs_show_micro_f1_and_average_precision() -> None:
    values = {
        "macro_f1": 0.41, "micro_f1": 0.523, "micro_f1_ci_low": 0.5, "micro_f1_ci_high": 0.55,
        "average_precision": 0.612, "average_precision_X": 0.7, "average_precision_Y": 0.524,
        "subset_accuracy": 0.3, "hamming_loss": 0.1,
    }  # fmt: skip
    assert [m.name for m in shown([values])] == [
        "macro_f1",
        "micro_f1",
        "average_precision",
        "subset_accuracy",
    ]
    rows = [ResultRow("newslab", "ovr", values, RUN, ours=True)]
    text = _text(rows)
    assert "micro F1" in text and "0.523 [0.500–0.550]" in text and "macro AP" in text and "0.612" in text
    assert "Hamming" not in text and "average_precision_X" not in text  # per-label values are no columns

    section = RunSection(RUN, "1", "ovr", "newslab", "event_type", values)
    report = Report("now", "sqlite:///x.db", rows, [DatasetSection("newslab", [section])])
    html, markdown = render_html(report), render_markdown(report)
    assert "<th>macro F1</th><th>micro F1</th><th>macro AP</th><th>subset accuracy</th>" in html
    assert '<td class="num">0.523 [0.500–0.550]</td><td class="num">0.612</td>' in html
    assert "| macro F1 | micro F1 | macro AP | subset accuracy | MLflow run |" in markdown
    assert "micro F1 0.523 [0.500–0.550]; macro AP 0.612; subset accuracy 0.300" in markdown


def test_weighted_f1_is_a_column_when_a_dataset_asks_for_it() -> None:
    ours = {"macro_f1": 0.6, "accuracy": 0.7, "weighted_f1": 0.681, "weighted_f1_ci_low": 0.65,
            "weighted_f1_ci_high": 0.71}  # fmt: skip
    rows = [ResultRow("plover_gsr", "lr", ours, RUN, ours=True)]
    assert [m.name for m in shown([ours])] == ["macro_f1", "accuracy", "weighted_f1"]
    assert "weighted F1" in _text(rows) and "0.681 [0.650–0.710]" in _text(rows)
    section = RunSection(RUN, "1", "lr", "plover_gsr", "event_type", ours)
    markdown = render_markdown(
        Report("now", "sqlite:///x.db", rows, [DatasetSection("plover_gsr", [section])])
    )
    assert "| macro F1 | accuracy | weighted F1 | MLflow run |" in markdown
    assert "| plover_gsr | **lr** | 0.600 | 0.700 | 0.681 [0.650–0.710] |" in markdown
