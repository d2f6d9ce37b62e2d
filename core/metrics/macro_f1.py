"""Macro-F1: the unweighted mean of the per-label F1 scores.

Over the labels present in the gold labels only: a label absent from a test set has no
defined recall and would pull the mean down to no purpose.
"""

import numpy as np

from core.metrics import Metric, per_class, register


def _single(cm: np.ndarray, roles) -> float:  # type: ignore[no-untyped-def]
    f1 = per_class(cm)[2]
    present = cm.sum(axis=1) > 0
    return float(f1[present].mean()) if present.any() else 0.0


def _multi(y: np.ndarray, p: np.ndarray, roles) -> float:  # type: ignore[no-untyped-def]
    present = y.any(axis=0)
    if not present.any():
        return 0.0
    tp = (y & p).sum(axis=0)[present].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.nan_to_num(2 * tp / (y.sum(axis=0)[present] + p.sum(axis=0)[present]))
    return float(f1.mean())


register(Metric("macro_f1", "macro F1", "mean F1 over the labels", _single, _multi, default=True, order=0))
