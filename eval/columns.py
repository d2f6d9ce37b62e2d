"""Which metrics a table of runs shows, in which order, and how a cell reads.

All of it comes from the metric registry (title, format, order), so a metric added as a
module of ``core/metrics`` appears in the results table, the report and the CLI with no
change here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from core import metrics
from core.metrics import Metric

#: logged by ``eval.analysis`` beside the registry's metrics (a property of the probabilities,
#: not of the labels); the report shows it after them
ECE = Metric("ece", "ECE", "expected calibration error of the top label", higher_is_better=False, order=1000)


def _key(metric: Metric) -> tuple[bool, int, str]:
    return not metric.default, metric.order, metric.name


def shown(rows: Iterable[Mapping[str, float]], also: Sequence[Metric] = ()) -> list[Metric]:
    """The registry's column metrics that any of the rows has (defaults first, then by order and
    name), then those of ``also`` that any row has."""
    present = {name for row in rows for name in row}
    ordered = sorted((m for m in metrics.registry().values() if m.column and m.name in present), key=_key)
    return ordered + [m for m in also if m.name in present and m not in ordered]


def cell(metric: Metric, values: Mapping[str, float]) -> str:
    """The metric's value in a run's figures, with its 95 % interval when one was logged."""
    text = metric.format(values.get(metric.name))
    interval = metric.format_interval(
        values.get(f"{metric.name}_ci_low"), values.get(f"{metric.name}_ci_high")
    )
    return f"{text} {interval}" if text and interval else text


def summary(values: Mapping[str, float], also: Sequence[Metric] = ()) -> str:
    """One line of a run's metrics, ``macro F1 0.612; accuracy 0.700 [...]``."""
    return "; ".join(f"{m.title} {cell(m, values)}" for m in shown([values], also))
