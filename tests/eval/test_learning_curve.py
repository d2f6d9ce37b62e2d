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


def _curve(values: dict[int, list[float]]) -> LearningCurve:
    points = [
        CurvePoint(n / 400, n, seed, {"macro_f1": v}) for n, vs in values.items() for seed, v in enumerate(vs)
    ]
    return LearningCurve("exp", "data", "macro_f1", points)


def test_gain_per_doubling_and_the_verdict() -> None:
    rising = _curve({100: [0.40, 0.42], 200: [0.50, 0.52], 400: [0.60]})
    assert rising.gain_per_doubling() == pytest.approx(0.60 - 0.51)
    assert "still rising" in rising.verdict() and "400 training items" in rising.verdict()
    flat = _curve({100: [0.5], 400: [0.51]})  # two doublings, +0.01: +0.005 per doubling
    assert flat.gain_per_doubling() == pytest.approx(0.005) and "flat" in flat.verdict()
    assert "no trend" in _curve({400: [0.5]}).verdict()
    summary = rising.summary()
    assert list(summary["n_train"]) == [100, 200, 400] and summary["mean"].iloc[0] == pytest.approx(0.41)


@pytest.mark.slow
def test_a_real_learning_curve_is_logged_to_mlflow(settings: Settings, shared: Path, tmp_path: Path) -> None:
    fetch(["conref_stance_ita"])
    build("conref_ita")
    config = tmp_path / "lr.yaml"
    config.write_text(
        "name: lr\ntask: stance\ndataset: conref_ita\nmodel: {type: tfidf_lr, params: {C: 4.0}}\n"
    )
    curve = learning_curve(config, fractions=(0.25, 0.5, 1.0), seeds=2)
    assert [int(n) for n in curve.summary()["count"]] == [2, 2, 1]
    assert curve.metric == "f_avg" and curve.summary()["n_train"].iloc[-1] == 666

    import mlflow

    client = mlflow.MlflowClient()
    run = client.get_run(curve.run_id)
    assert run.data.tags["newslab.kind"] == "learning_curve" and "newslab.task" not in run.data.tags
    history = client.get_metric_history(curve.run_id, "curve_f_avg")
    assert [m.step for m in history] == list(curve.summary()["n_train"])
    assert {a.path for a in client.list_artifacts(curve.run_id, "plots")} == {"plots/learning_curve.png"}
    assert run.data.tags["newslab.verdict"] == curve.verdict()
