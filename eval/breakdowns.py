"""A run's test metrics per language, source and target: where the model does well and where not.

Grouped from the columns ``newslab train`` copies beside the predictions. A column with
more distinct values than ``MAX_GROUPS`` is not a category (FNC-1's target is a headline)
and is left out; a missing or empty value is its own group, ``(missing)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import pandas as pd

from core import metrics

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
    """(accuracy, macro-F1) of a slice of a predictions frame (subset accuracy for multi-label tasks)."""
    roles = metrics.Roles(codes=tuple(codes), multi_label=multi_label, unrelated=(), polar=())
    accuracy = metrics.get("subset_accuracy" if multi_label else "accuracy")
    y, p = metrics.encode(list(group["gold"]), roles), metrics.encode(list(group["pred"]), roles)
    m = metrics.from_encoded(y, p, roles, [accuracy, metrics.get("macro_f1")])
    return m[accuracy.name], m["macro_f1"]


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
