"""Subset accuracy: the share of items whose whole label set is right (multi-label)."""

from core.metrics import Metric, register

register(
    Metric(
        "subset_accuracy",
        "subset accuracy",
        "share of items whose label set is exactly right",
        indicators=lambda y, p, roles: float((y == p).all(axis=1).mean()) if len(y) else 0.0,
        default=True,
    )
)
