"""Average precision (area under the precision-recall curve) per label, and its macro mean
(multi-label, from the model's scores).

F1 judges one threshold; average precision judges the ranking the scores give, which is what a
tuned threshold or a reviewer working down a list depends on. As with macro-F1, labels absent from
the gold labels have no defined recall and are left out of the mean (and have no per-label value).

It is scikit-learn's ``average_precision_score`` (step-wise, tied scores one threshold), written in
numpy because every bootstrap resample computes it for every label: scikit-learn's input checks
made a 200-resample interval of 18 labels take 14 s; the tests hold the two equal.
"""

import numpy as np

from core.metrics import Metric, register


def _one(y: np.ndarray, s: np.ndarray) -> float:
    """Sum over distinct thresholds (high to low) of the recall gained times the precision there."""
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # the last item of each group of tied scores
    tp = np.cumsum(y)[last].astype(float)
    precision, recall = tp / (last + 1), tp / tp[-1]
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def per_label(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Each label's average precision; NaN where no gold item has the label."""
    out = np.full(y.shape[1], np.nan)
    for j in np.flatnonzero(y.any(axis=0)):
        out[j] = _one(y[:, j], scores[:, j])
    return out


def _macro(y: np.ndarray, scores: np.ndarray, roles) -> float:  # type: ignore[no-untyped-def]
    values = per_label(y, scores)
    return float(np.nanmean(values)) if not np.isnan(values).all() else 0.0


register(
    Metric(
        "average_precision",
        "macro AP",
        "mean over labels of the area under the precision-recall curve of the label's scores",
        scores=_macro,
        per_label=per_label,
        default=True,
        order=2,
    )
)
