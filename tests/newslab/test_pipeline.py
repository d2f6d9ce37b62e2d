"""The main job skips what is done: a second run with nothing changed trains nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import tracking
from core.settings import Settings
from newslab.pipeline import code_version, find_done, run, run_key
from training.config import load_experiment


def test_the_run_key_changes_with_each_input() -> None:
    config, _ = load_experiment("cameo_tfidf_lr")
    key = run_key(config, "d1", "s1", "c1")
    assert key == run_key(load_experiment("cameo_tfidf_lr")[0], "d1", "s1", "c1")
    assert key != run_key(config.with_params({"C": 1.0}), "d1", "s1", "c1")
    assert key != run_key(config, "d2", "s1", "c1")
    assert key != run_key(config, "d1", "s2", "c1")
    assert key != run_key(config, "d1", "s1", "c2")


def test_code_version_sees_an_edited_source(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text("x = 1\n")
    before = tracking.code_version([package])
    (package / "a.py").write_text("x = 2\n")
    assert tracking.code_version([package]) != before
    assert len(code_version()) == 16


@pytest.mark.slow
def test_a_second_run_reuses_finished_runs_and_force_retrains(
    settings: Settings, shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pinned: in a checkout others are editing, the sources may change between the runs
    monkeypatch.setattr("newslab.pipeline.code_version", lambda: "pinned")
    config = tmp_path / "run.yaml"
    config.write_text("experiments: [cameo_tfidf_lr]\n")

    first = run(config, limit=30, settings=settings)
    assert len(first.trained) == 1 and first.reused == []
    run_id = first.trained[0].run_id

    second = run(config, limit=30, settings=settings)
    assert second.trained == [] and second.reused == [run_id]
    assert second.results == first.results  # the same table

    forced = run(config, limit=30, settings=settings, force=True)
    assert len(forced.trained) == 1 and forced.reused == []
    assert forced.trained[0].run_id != run_id

    from mlflow import MlflowClient

    client = MlflowClient()
    key = client.get_run(run_id).data.tags[tracking.RUN_KEY_TAG]
    assert client.get_run(forced.trained[0].run_id).data.tags[tracking.RUN_KEY_TAG] == key
    # a newer run with the key but no test metrics (training died before evaluation) is not done
    import mlflow

    with mlflow.start_run(experiment_id=client.get_run(run_id).info.experiment_id, tags={"x": "y"}) as bare:
        mlflow.set_tag(tracking.RUN_KEY_TAG, key)
    assert find_done(key, settings) == forced.trained[0].run_id != bare.info.run_id
