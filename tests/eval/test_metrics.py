"""Metrics of logged predictions: the eval stage's use of the metric registry."""

from __future__ import annotations


def test_bootstrap_intervals_bracket_the_metric() -> None:
    import pandas as pd

    from core.schema import load_schema
    from eval.evaluate import bootstrap_intervals, compute_metrics

    schema = load_schema()
    gold = ["favor", "against", "neutral", "unrelated"] * 50
    pred = [g if i % 4 else "unrelated" for i, g in enumerate(gold)]
    frame = pd.DataFrame({"gold": gold, "pred": pred})
    point = compute_metrics(frame, "stance", "fnc1", schema)
    intervals = bootstrap_intervals(frame, "stance", "fnc1", schema, n_boot=200, seed=1)
    assert set(intervals) >= {"macro_f1", "accuracy", "fnc_score"}
    for name, (low, high) in intervals.items():
        assert low <= point[name] <= high and low < high, name
    assert intervals == bootstrap_intervals(frame, "stance", "fnc1", schema, n_boot=200, seed=1)
