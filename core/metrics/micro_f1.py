"""Micro-F1: F1 of all label decisions pooled (multi-label; for a single-label task it is accuracy,
which is what is shown for those)."""

import numpy as np

from core.metrics import Metric, register


def _multi(y: np.ndarray, p: np.ndarray, roles) -> float:  # type: ignore[no-untyped-def]
    tp = float((y & p).sum())
    denominator = float(y.sum() + p.sum())
    return 2 * tp / denominator if denominator else 0.0


register(
    Metric(
        "micro_f1",
        "micro F1",
        "F1 of all label decisions pooled",
        indicators=_multi,
        default=True,
        order=1,
    )
)
