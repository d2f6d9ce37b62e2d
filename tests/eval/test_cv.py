"""`newslab eval cv`: nested fold runs, pooled out-of-fold predictions that eval and compare read."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.assets import fetch
from core.settings import Settings
from dataset.build import build
from eval.compare import compare_runs
from eval.cv import FOLDS, REPEATS, cross_validate
from eval.evaluate import evaluate_run

pytestmark = pytest.mark.slow


def _artifact(run_id: str, path: str) -> pd.DataFrame:
    import mlflow

    return pd.read_parquet(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path))


def test_cv_runs_nest_folds_and_evaluate_and_compare_like_test_runs(
    settings: Settings, shared: Path, tmp_path: Path
) -> None:
    import mlflow

    fetch(["conref_stance_ita"])
    build("conref_ita", limit=60)
    first = cross_validate("conref_ita_svm", k=3, repeats=2, dataset="conref_ita_n60", seed=5)
    assert len(first.fold_run_ids) == 6 and len(first.scores) == 2
    client = mlflow.MlflowClient()
    children = mlflow.search_runs(
        search_all_experiments=True,
        filter_string=f"tags.`mlflow.parentRunId` = '{first.run_id}'",
        output_format="list",
    )
    assert {r.info.run_id for r in children} == set(first.fold_run_ids)
    assert all("fold_f_avg" in r.data.metrics for r in children)

    plan = _artifact(first.run_id, FOLDS)
    assert set(plan["repeat"]) == {0, 1} and set(plan["fold"]) == {0, 1, 2}
    pooled = _artifact(first.run_id, "predictions/test.parquet")
    assert len(pooled) == len(plan) // 2 and pooled["id"].is_unique  # every training item once
    assert set(pooled["id"]) == set(plan["id"])
    assert len(_artifact(first.run_id, REPEATS)) == len(plan)
    parent = client.get_run(first.run_id).data
    assert parent.metrics["cv_f_avg_mean"] == pytest.approx(sum(first.scores) / 2)

    scores = evaluate_run(first.run_id)  # bootstrap intervals, per class, figures: as for a test split
    assert scores["f_avg"] == pytest.approx(first.scores[0])
    logged = client.get_run(first.run_id).data.metrics
    assert logged["test_f_avg_ci_low"] <= logged["test_f_avg"] <= logged["test_f_avg_ci_high"]

    other = tmp_path / "cnb.yaml"
    other.write_text(
        "name: cnb\ntask: stance\ndataset: conref_ita\nmodel: {type: tfidf_lr, params: {classifier: cnb}}\n"
    )
    second = cross_validate(other, k=3, repeats=1, dataset="conref_ita_n60", seed=5)
    second_plan = _artifact(second.run_id, FOLDS)
    assert second_plan.equals(plan[plan["repeat"] == 0].reset_index(drop=True))  # the same folds
    compared = compare_runs(first.run_id, second.run_id, n_boot=200)
    assert compared.n_items == len(pooled) and compared.name_b == "cnb"

    from eval.results import latest_runs

    rows = latest_runs([first.run_id])  # a results row of its own, though it has no model
    assert len(rows) == 1 and rows[0].system.endswith("(cv 3x2, train)")
    assert rows[0].metrics["f_avg"] == pytest.approx(first.scores[0])
