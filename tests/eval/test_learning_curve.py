"""Learning curves: whole-article subsets, the plain-words reading, and a real curve logged to MLflow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.assets import fetch
from core.errors import NewslabError
from core.settings import Settings
from dataset.build import build
from eval.learning_curve import CurvePoint, LearningCurve, learning_curve, subset_rows


def test_subsets_take_whole_groups_about_the_fraction_and_are_seeded() -> None:
    groups = [f"a{i // 3}" for i in range(300)]  # 100 articles of 3 pairs
    rows = subset_rows(groups, 0.25, seed=1)
    chosen = {groups[i] for i in rows}
    assert all(sum(g == c for g in groups) == 3 for c in chosen)  # every pair of a chosen article
    assert set(rows) == {i for i, g in enumerate(groups) if g in chosen}
    assert 75 <= len(rows) <= 78
    assert np.array_equal(rows, subset_rows(groups, 0.25, seed=1))
    assert not np.array_equal(rows, subset_rows(groups, 0.25, seed=2))
    assert len(subset_rows(groups, 1.0, seed=0)) == 300
    with pytest.raises(NewslabError, match="not a fraction"):
        subset_rows(groups, 1.5, seed=0)


def test_subsets_are_a_number_of_articles_whatever_their_items() -> None:
    groups = [f"a{i}" for i in range(10) for _ in range(1 + i % 4)]  # articles of 1 to 4 pairs
    sizes = {len({groups[i] for i in subset_rows(groups, 0.5, seed)}) for seed in range(5)}
    items = {len(subset_rows(groups, 0.5, seed)) for seed in range(5)}
    assert sizes == {5} and len(items) > 1  # five articles each time, a different number of pairs
    assert len(subset_rows(groups, 0.125, seed=0)) >= 1  # rounded up: never empty


def _curve(values: dict[int, list[tuple[int, float]]]) -> LearningCurve:
    """Articles -> (items, score) per seed."""
    points = [
        CurvePoint(n / 40, n, items, seed, {"macro_f1": v})
        for n, runs in values.items()
        for seed, (items, v) in enumerate(runs)
    ]
    return LearningCurve("exp", "data", "macro_f1", points)


def test_sizes_average_over_seeds_though_their_items_differ() -> None:
    rising = _curve({10: [(98, 0.40), (103, 0.42)], 20: [(190, 0.50), (212, 0.52)], 40: [(400, 0.60)]})
    summary = rising.summary()
    assert list(summary["n_articles"]) == [10, 20, 40] and list(summary["count"]) == [2, 2, 1]
    assert list(summary["n_train"]) == [100.5, 201, 400]  # the mean number of items
    assert summary["mean"].iloc[0] == pytest.approx(0.41) and summary["std"].iloc[1] == pytest.approx(
        0.01414, 1e-3
    )
    assert rising.gain_per_doubling() == pytest.approx(0.60 - 0.51)  # between the averaged points
    verdict = rising.verdict()
    assert "still rising" in verdict and "40 training articles (400 items)" in verdict
    assert "sd over 2 seeds before it 0.014" in verdict


def test_gain_per_doubling_and_the_verdict() -> None:
    flat = _curve({10: [(100, 0.5)], 40: [(400, 0.51)]})  # two doublings, +0.01: +0.005 per doubling
    assert flat.gain_per_doubling() == pytest.approx(0.005) and "flat" in flat.verdict()
    assert "no trend" in _curve({40: [(400, 0.5)]}).verdict()


@pytest.mark.slow
def test_a_real_learning_curve_is_logged_to_mlflow(settings: Settings, shared: Path, tmp_path: Path) -> None:
    fetch(["conref_stance_ita"])
    build("conref_ita")
    config = tmp_path / "lr.yaml"
    config.write_text(
        "name: lr\ntask: stance\ndataset: conref_ita\nmodel: {type: tfidf_lr, params: {C: 4.0}}\n"
    )
    curve = learning_curve(config, fractions=(0.25, 0.5, 1.0), seeds=2)
    summary = curve.summary()
    assert [int(n) for n in summary["count"]] == [2, 2, 1] and summary["std"].iloc[:2].notna().all()
    assert curve.metric == "f_avg" and summary["n_train"].iloc[-1] == 666
    articles = len(set(curve.frame()["n_articles"]))
    assert articles == 3 and list(summary["n_articles"]) == sorted(summary["n_articles"])

    import mlflow

    client = mlflow.MlflowClient()
    run = client.get_run(curve.run_id)
    assert run.data.tags["newslab.kind"] == "learning_curve" and "newslab.task" not in run.data.tags
    history = client.get_metric_history(curve.run_id, "curve_f_avg")
    assert [m.step for m in history] == list(summary["n_articles"])
    assert [m.step for m in client.get_metric_history(curve.run_id, "curve_f_avg_sd")] == list(
        summary["n_articles"].iloc[:2]
    )
    assert {a.path for a in client.list_artifacts(curve.run_id, "plots")} == {"plots/learning_curve.png"}
    assert run.data.tags["newslab.verdict"] == curve.verdict()
