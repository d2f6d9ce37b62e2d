"""The percentile bootstrap, written once: metric intervals, paired run comparisons and agreement
figures all resample with it (items or units drawn with replacement, seeded)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def draws(
    statistic: Callable[[np.ndarray], dict[str, float]], n: int, n_boot: int, seed: int = 0
) -> dict[str, np.ndarray]:
    """``statistic`` of ``n_boot`` resamples of row positions ``0..n-1`` (drawn with replacement), by name."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[float]] = {}
    for _ in range(n_boot):
        for name, value in statistic(rng.integers(0, n, n)).items():
            out.setdefault(name, []).append(value)
    return {name: np.asarray(values, dtype=float) for name, values in out.items()}


def interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The percentile interval of bootstrap draws (NaN draws left out; NaNs when none is left)."""
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def intervals(
    statistic: Callable[[np.ndarray], dict[str, float]],
    n: int,
    n_boot: int,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of each figure ``statistic`` returns, over ``n_boot`` resamples of ``n`` rows."""
    return {name: interval(v, level) for name, v in draws(statistic, n, n_boot, seed).items()}


def two_sided_p(differences: np.ndarray, observed: float) -> float:
    """Two-sided bootstrap p-value of a difference: twice the smaller tail's share of resamples at or
    beyond zero (1.0 when the observed difference is zero)."""
    if observed == 0 or len(differences) == 0:
        return 1.0
    return float(min(1.0, 2 * min((differences <= 0).mean(), (differences >= 0).mean())))
