"""The metric registry: every figure newslab computes is one module of this package.

A metric module defines one ``Metric`` and passes it to ``register``; the package's
modules are imported the first time the registry is read, so adding a metric is adding
a module (see ``f_avg.py`` for a metric that needs labels flagged in the schema).

Single-label metrics are functions of the confusion matrix (rows gold, columns
predicted, in the schema's label order): the same function serves a whole test set,
every bootstrap resample and every step of bias tuning, so no metric is written twice.
Multi-label metrics are functions of the gold and predicted 0/1 indicator matrices, or, for
ranking metrics such as average precision, of the gold matrix and the model's per-label scores
(the ``proba_<label>`` columns of the logged predictions): labels alone cannot rank.
The labels a metric needs are found through schema flags (``related: false``,
``polar: true``), never by their codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core.errors import NewslabError
from core.registry import Registry
from core.schema import Task

SINGLE, MULTI = "single_label", "multi_label"


@dataclass(frozen=True)
class Roles:
    """What metrics need to know of a task's labels, by position in the schema's order."""

    codes: tuple[str, ...]
    multi_label: bool
    unrelated: tuple[int, ...]  #: labels flagged ``related: false`` (FNC-style scoring)
    polar: tuple[int, ...]  #: labels flagged ``polar: true`` (F_avg's pair)

    @classmethod
    def of(cls, task: Task) -> Roles:
        return cls(
            codes=tuple(task.codes),
            multi_label=task.multi_label,
            unrelated=tuple(i for i, label in enumerate(task.labels) if not label.related),
            polar=tuple(i for i, label in enumerate(task.labels) if label.polar),
        )


@dataclass(frozen=True)
class Metric:
    name: str
    title: str  #: the column heading in tables and reports
    description: str
    #: single-label: (confusion matrix, roles) -> value
    confusion: Callable[[np.ndarray, Roles], float] | None = None
    #: multi-label: (gold 0/1 matrix, predicted 0/1 matrix, roles) -> value
    indicators: Callable[[np.ndarray, np.ndarray, Roles], float] | None = None
    #: multi-label, from scores: (gold 0/1 matrix, per-label score matrix, roles) -> value
    scores: Callable[[np.ndarray, np.ndarray, Roles], float] | None = None
    #: with ``scores``: each label's value (NaN where undefined), logged as ``<name>_<label>``
    per_label: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    #: computed for every run it applies to; the others when a dataset config lists them (extra_metrics)
    default: bool = False
    percent: bool = False  #: shown as a percentage (the FNC score)
    higher_is_better: bool = True
    #: a reason the task cannot have this metric (a schema flag missing), or None
    requires: Callable[[Roles], str | None] | None = None
    #: where its column goes in tables: defaults first, then by order, then by name
    order: int = 100
    #: a column of results tables and the report (False: logged, and compared in MLflow, only)
    column: bool = True

    def kinds(self) -> tuple[str, ...]:
        multi = self.indicators or self.scores
        return tuple(k for k, f in ((SINGLE, self.confusion), (MULTI, multi)) if f is not None)

    @property
    def needs_scores(self) -> bool:
        """Computed from the model's scores, so only where they are given (not from labels alone)."""
        return self.scores is not None and self.indicators is None

    def problem(self, roles: Roles) -> str | None:
        """Why this metric cannot be computed for a task, or None when it can."""
        kind = MULTI if roles.multi_label else SINGLE
        if kind not in self.kinds():
            return f"{self.name} is defined for {' and '.join(self.kinds())} tasks, not {kind} ones"
        return self.requires(roles) if self.requires else None

    def format(self, value: float | None) -> str:
        if value is None or value != value:
            return ""
        return f"{100 * value:.2f} %" if self.percent else f"{value:.3f}"

    def format_interval(self, low: float | None, high: float | None) -> str:
        """A confidence interval as tables show it after the value (``[85.1–86.1]`` for a percentage)."""
        if low is None or high is None or low != low or high != high:
            return ""
        if self.percent:
            return f"[{100 * low:.1f}–{100 * high:.1f}]"
        return f"[{low:.3f}–{high:.3f}]"


REGISTRY: Registry[Metric] = Registry("metric", __name__, "Add a module to core/metrics/ to define one.")


def register(metric: Metric) -> Metric:
    """Add a metric (a module of this package calls this when imported)."""
    form = metric.confusion or metric.indicators or metric.scores
    return REGISTRY.add(metric.name, metric, form.__module__ if form else "")


def registry() -> dict[str, Metric]:
    """Every registered metric, by name (in the order its modules were loaded)."""
    return REGISTRY.all()


def get(name: str) -> Metric:
    return REGISTRY.get(name)


def check(names: Iterable[str], task: Task, where: str) -> None:
    """Refuse metrics that are unknown or that the task cannot have, naming ``where`` they were asked for."""
    roles = Roles.of(task)
    for name in names:
        try:
            metric = get(name)
        except NewslabError as exc:
            raise NewslabError(f"{where}: {exc.message}") from None
        problem = metric.problem(roles)
        if problem:
            raise NewslabError(f"{where}: {problem}.", "Flag the labels in the schema or drop the metric.")


def selected(task: Task, extra: Sequence[str] = ()) -> list[Metric]:
    """The default metrics that apply to the task, then the ``extra`` ones asked for (checked)."""
    roles = Roles.of(task)
    check(extra, task, "extra_metrics")
    out = [m for m in registry().values() if m.default and m.problem(roles) is None]
    return out + [get(n) for n in extra if get(n) not in out]


def primary(task: Task, extra: Sequence[str] = ()) -> str:
    """The figure runs of one task and dataset are ranked by: the dataset's first extra metric, else
    macro-F1. A metric that needs scores is passed over: selection scores runs from held-out labels."""
    return next((name for name in extra if not get(name).needs_scores), "macro_f1")


def confusion(y: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """Confusion matrix (rows gold, columns predicted) of integer-coded labels ``0..k-1``."""
    return np.bincount(y * k + p, minlength=k * k).reshape(k, k)


def per_class(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 and support of each class of a confusion matrix (0 where undefined)."""
    tp = np.diag(cm).astype(float)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(tp / predicted)
        recall = np.nan_to_num(tp / support)
        f1 = np.nan_to_num(2 * tp / (predicted + support))
    return precision, recall, f1, support.astype(float)


def encode(values: Sequence, roles: Roles) -> np.ndarray:
    """Label codes to integer positions (single-label) or a 0/1 indicator matrix (multi-label)."""
    index = {code: i for i, code in enumerate(roles.codes)}
    try:
        if not roles.multi_label:
            return np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))
        out = np.zeros((len(values), len(roles.codes)), dtype=np.int8)
        for row, labels in enumerate(values):
            for label in labels:
                out[row, index[label]] = 1
        return out
    except KeyError as exc:
        raise NewslabError(
            f"label {exc.args[0]!r} is not one of the task's labels ({', '.join(roles.codes)})."
        ) from None


SCORE_PREFIX = "proba_"  #: the logged predictions' column of each label's score (training/train.py)


def score_matrix(table: Mapping[str, Sequence[float]], roles: Roles) -> np.ndarray | None:
    """The per-label scores of logged predictions (``proba_<label>`` columns, schema order) as an
    items x labels matrix; None when a label has no such column (older runs, or a model without scores)."""
    names = [SCORE_PREFIX + code for code in roles.codes]
    if not all(name in table for name in names):
        return None
    return np.column_stack([np.asarray(table[name], dtype=float) for name in names])


def from_encoded(
    y: np.ndarray,
    p: np.ndarray,
    roles: Roles,
    metrics: Sequence[Metric],
    scores: np.ndarray | None = None,
) -> dict[str, float]:
    """The metrics of encoded gold and predicted labels: the fast path of bootstraps and tuning.

    A metric that needs scores is left out when ``scores`` (rows as ``y``'s) is None: callers that
    have labels only (bootstraps of older runs, breakdowns) cannot compute it, and must not fail for
    it; a caller that asks for nothing else (a sweep or selection metric) is told why."""
    if scores is None and metrics and all(m.needs_scores for m in metrics):
        names = ", ".join(m.name for m in metrics)
        raise NewslabError(
            f"{names} needs the model's per-label scores, and only predicted labels were given.",
            "Rank or sweep by a label metric (macro_f1, micro_f1, ...); it is reported at evaluation.",
        )
    if roles.multi_label:
        out: dict[str, float] = {}
        for m in metrics:
            if m.indicators is not None:
                out[m.name] = float(m.indicators(y, p, roles))
            elif m.scores is not None and scores is not None:
                out[m.name] = float(m.scores(y, scores, roles))
        return out
    cm = confusion(y, p, len(roles.codes))
    return {m.name: float(m.confusion(cm, roles)) for m in metrics}  # type: ignore[misc]


def compute(
    gold: Sequence, pred: Sequence, task: Task, extra: Sequence[str] = (), scores: np.ndarray | None = None
) -> dict[str, float]:
    """Every metric of a test set: the selected ones, and per label F1 and support (precision and recall
    too for single-label tasks), as ``f1_<label>`` etc.; with ``scores`` (items x labels, schema order,
    see ``score_matrix``) also the score metrics of multi-label tasks and their per-label values."""
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} items, pred has {len(pred)}")
    roles = Roles.of(task)
    if scores is not None and np.shape(scores) != (len(gold), len(roles.codes)):
        raise ValueError(f"scores are {np.shape(scores)}, not {len(gold)} items x {len(roles.codes)} labels")
    y, p = encode(gold, roles), encode(pred, roles)
    chosen = selected(task, extra)
    out = from_encoded(y, p, roles, chosen, scores)
    if roles.multi_label and scores is not None:
        for metric in (m for m in chosen if m.per_label is not None):
            values = metric.per_label(y, scores)  # type: ignore[misc]
            out.update(
                {f"{metric.name}_{c}": float(v) for c, v in zip(roles.codes, values, strict=True) if v == v}
            )
    if roles.multi_label:
        tp = (y & p).sum(axis=0).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            f1 = np.nan_to_num(2 * tp / (y.sum(axis=0) + p.sum(axis=0)))
        per_label = {"f1": f1, "support": y.sum(axis=0).astype(float)}
    else:
        precision, recall, f1, support = per_class(confusion(y, p, len(roles.codes)))
        per_label = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    for i, code in enumerate(roles.codes):
        for kind, values in per_label.items():
            out[f"{kind}_{code}"] = float(values[i])
    return out
