"""The one percentile bootstrap."""

from __future__ import annotations

import numpy as np

from core import stats


def test_intervals_bracket_the_mean_and_repeat_with_a_seed() -> None:
    values = np.random.default_rng(0).normal(5.0, 1.0, 400)
    stat = lambda rows: {"mean": float(values[rows].mean())}  # noqa: E731
    first = stats.intervals(stat, len(values), 300, seed=3)
    low, high = first["mean"]
    assert low < values.mean() < high and high - low < 0.4
    assert first == stats.intervals(stat, len(values), 300, seed=3)


def test_nan_draws_are_left_out_and_the_p_value_is_two_sided() -> None:
    assert stats.interval(np.array([np.nan, 1.0, 2.0, 3.0]))[0] >= 1.0
    assert np.isnan(stats.interval(np.array([np.nan]))[0])
    assert stats.two_sided_p(np.array([1.0, 2.0, -1.0, 3.0]), 1.5) == 0.5
    assert stats.two_sided_p(np.array([1.0]), 0.0) == 1.0
