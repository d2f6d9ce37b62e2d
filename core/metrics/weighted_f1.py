"""Weighted F1: per-label F1 weighted by the label's support in the gold labels."""

import numpy as np

from core.metrics import Metric, per_class, register


def _single(cm: np.ndarray, roles) -> float:  # type: ignore[no-untyped-def]
    _, _, f1, support = per_class(cm)
    return float((f1 * support).sum() / support.sum()) if support.sum() else 0.0


def _multi(y: np.ndarray, p: np.ndarray, roles) -> float:  # type: ignore[no-untyped-def]
    support = y.sum(axis=0).astype(float)
    tp = (y & p).sum(axis=0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.nan_to_num(2 * tp / (support + p.sum(axis=0)))
    return float((f1 * support).sum() / support.sum()) if support.sum() else 0.0


register(Metric("weighted_f1", "weighted F1", "per-label F1 weighted by gold support", _single, _multi))
