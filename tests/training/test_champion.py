"""Champion choice ranks by the training-data-only selection score, never by the test score."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from eval.evaluate import (
    CHAMPION,
    compute_metrics,
    evaluate_run,
    load_predictions,
    register_if_best,
    registered_name,
)
from tests.eval.conftest import train_conref_pair
from training.train import SELECTION_TAG, selection_metric

pytestmark = pytest.mark.slow


def test_the_better_selection_score_wins_over_the_better_test_score(
    settings: Settings, shared: Path, tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    from core.schema import load_schema

    runs = train_conref_pair(tmp_path)  # two real training runs on the full referendum set
    client = MlflowClient()
    for run_id in runs:  # each run scored itself on training data only
        run = client.get_run(run_id)
        assert run.data.tags[SELECTION_TAG] == "cv-3-fold"
        assert 0 <= run.data.metrics[selection_metric("f_avg")] <= 1
    schema = load_schema(settings.schema_path)
    test = {r: compute_metrics(load_predictions(r), "stance", "conref_ita", schema)["f_avg"] for r in runs}
    better_test, worse_test = sorted(runs, key=test.get, reverse=True)
    assert test[better_test] > test[worse_test]
    # chosen selection scores: the run better on the test split is the worse one on training data
    client.log_metric(better_test, selection_metric("f_avg"), 0.30)
    client.log_metric(worse_test, selection_metric("f_avg"), 0.60)

    evaluate_run(better_test, n_boot=0)
    name = registered_name("stance", "conref_ita")
    assert client.get_model_version_by_alias(name, CHAMPION).run_id == better_test  # the first contender
    evaluate_run(worse_test, n_boot=0)
    champion = client.get_model_version_by_alias(name, CHAMPION)
    assert champion.run_id == worse_test
    assert float(champion.tags[selection_metric("f_avg")]) == pytest.approx(0.60)
    assert float(champion.tags["test_f_avg"]) == pytest.approx(test[worse_test])  # reported, not ranked by
    assert champion.tags[SELECTION_TAG] == "cv-3-fold"

    # an older run without a selection score never takes the alias, whatever its test score
    older = client.get_run(better_test)
    older.data._metrics.pop(selection_metric("f_avg"))
    assert not register_if_best(client, older, "stance", "conref_ita", {"f_avg": 1.0}, "f_avg")
    assert client.get_model_version_by_alias(name, CHAMPION).run_id == worse_test
