"""The analyses logged with a run's metrics: calibration, breakdowns by group, error analysis.

Artifacts of the run (read back by ``eval.report_collect``):

- ``plots/reliability.png`` and ``eval/calibration.json`` (the reliability diagram's bins);
- ``eval/breakdowns.csv``: accuracy, macro-F1 and n per lang / source / target value;
- ``eval/errors.json``: the most confused label pairs with examples, the confident errors;
  ``eval/confident_errors.csv``: the latter as a table.
"""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from core.schema import Task
from eval.breakdowns import breakdowns, to_frame
from eval.calibration import probability_columns, reliability_figure, run_reliability
from eval.errors import analyse, confident_frame

RELIABILITY = "plots/reliability.png"
CALIBRATION = "eval/calibration.json"
BREAKDOWNS = "eval/breakdowns.csv"
ERRORS = "eval/errors.json"
CONFIDENT = "eval/confident_errors.csv"


def log_analysis(client, run_id: str, predictions: pd.DataFrame, task: Task, title: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Log the analyses to the run; return the metrics among them (``ece``, when the run logged
    probabilities)."""
    metrics: dict[str, float] = {}
    if probability_columns(predictions, task.codes):
        data = run_reliability(predictions, task.codes, task.multi_label)
        metrics["ece"] = data.ece
        client.log_dict(run_id, asdict(data), CALIBRATION)
        figure = reliability_figure(data, title)
        client.log_figure(run_id, figure, RELIABILITY)
        import matplotlib.pyplot as plt

        plt.close(figure)
    groups = breakdowns(predictions, task.codes, task.multi_label)
    client.log_text(run_id, to_frame(groups).to_csv(index=False), BREAKDOWNS)
    errors = analyse(predictions, task.multi_label)
    client.log_dict(run_id, errors.to_dict(), ERRORS)
    client.log_text(run_id, confident_frame(errors).to_csv(index=False), CONFIDENT)
    return metrics
