"""Accuracy: the share of items whose label is right (single-label)."""

from core.metrics import Metric, register

register(
    Metric(
        "accuracy",
        "accuracy",
        "share of items labelled right",
        confusion=lambda cm, roles: float(cm.trace() / max(cm.sum(), 1)),
        default=True,
        order=1,
    )
)
