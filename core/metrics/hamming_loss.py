"""Hamming loss: the share of wrong label decisions (multi-label; lower is better)."""

from core.metrics import Metric, register

register(
    Metric(
        "hamming_loss",
        "Hamming loss",
        "share of wrong yes/no label decisions",
        indicators=lambda y, p, roles: float((y != p).mean()) if y.size else 0.0,
        default=True,
        higher_is_better=False,
        column=False,
    )
)
