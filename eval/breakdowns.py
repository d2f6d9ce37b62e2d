"""A run's test metrics per language, source and target: where the model does well and where not.

Grouped from the columns ``newslab train`` copies beside the predictions. A column with
more distinct values than ``MAX_GROUPS`` is not a category (FNC-1's target is a headline)
and is left out; a missing or empty value is its own group, ``(missing)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import pandas as pd

from eval.metrics import multi_label_metrics, single_label_metrics

COLUMNS = ("lang", "source", "target")
MAX_GROUPS = 50
MISSING = "(missing)"


@dataclass(frozen=True)
class GroupMetrics:
    column: str
    value: str
    n: int
    accuracy: float  #: subset accuracy for multi-label tasks
    macro_f1: float  #: over the labels present in the group's gold labels


def group_metrics(group: pd.DataFrame, codes: list[str], multi_label: bool) -> tuple[float, float]:
    """(accuracy, macro-F1) of a slice of a predictions frame."""
    if multi_label:
        m = multi_label_metrics([list(g) for g in group["gold"]], [list(p) for p in group["pred"]], codes)
        return m["subset_accuracy"], m["macro_f1"]
    m = single_label_metrics(list(group["gold"]), list(group["pred"]), codes)
    return m["accuracy"], m["macro_f1"]


def breakdowns(
    predictions: pd.DataFrame,
    codes: list[str],
    multi_label: bool,
    columns: Sequence[str] = COLUMNS,
    max_groups: int = MAX_GROUPS,
) -> list[GroupMetrics]:
    """Metrics per value of each of ``columns`` the frame has (and that is category-like), largest
    groups first."""
    out: list[GroupMetrics] = []
    for column in columns:
        if column not in predictions.columns:
            continue
        values = predictions[column].astype("string").fillna(MISSING).replace("", MISSING)
        if values.nunique() > max_groups:
            continue
        for value, group in predictions.groupby(values.to_numpy(), sort=False):
            accuracy, macro_f1 = group_metrics(group, codes, multi_label)
            out.append(GroupMetrics(column, str(value), len(group), accuracy, macro_f1))
    order = {column: i for i, column in enumerate(columns)}
    return sorted(out, key=lambda g: (order[g.column], -g.n, g.value))


def to_frame(groups: list[GroupMetrics]) -> pd.DataFrame:
    return pd.DataFrame([asdict(g) for g in groups], columns=["column", "value", "n", "accuracy", "macro_f1"])


def from_frame(frame: pd.DataFrame) -> list[GroupMetrics]:
    return [
        GroupMetrics(str(r.column), str(r.value), int(r.n), float(r.accuracy), float(r.macro_f1))
        for r in frame.itertuples(index=False)
    ]
