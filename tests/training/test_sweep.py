"""Sweeps, model families and the champion alias, against a real MLflow store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.assets import fetch
from core.errors import NewslabError
from core.schema import load_schema
from core.settings import Settings
from dataset.build import build
from eval.evaluate import CHAMPION, CONFUSION, evaluate_run, registered_name
from training.config import load_experiment
from training.loading import load_model
from training.sweep import sweep
from training.train import train

pytestmark = pytest.mark.slow


def _runs(settings: Settings):  # type: ignore[no-untyped-def]
    import mlflow

    mlflow.set_tracking_uri(settings.resolved_tracking_uri)
    return mlflow.search_runs(search_all_experiments=True, output_format="list")


def test_sweep_trials_are_nested_runs_and_machines_share_one_study(settings: Settings, shared: Path) -> None:
    fetch(["conref_stance_ita"])
    build("conref_ita", limit=60)
    first = sweep("conref_ita_svm", trials=2, dataset="conref_ita_n60")
    space = load_experiment("conref_ita_svm")[0].sweep.space
    assert first.trials == 2 and set(first.best_params) == set(space)
    assert first.storage.startswith("sqlite:///") and Path(first.storage[10:]).is_file()
    again = sweep("conref_ita_svm", trials=1, dataset="conref_ita_n60")  # another machine, same storage
    assert again.trials == 3 and again.study == first.study

    runs = _runs(settings)
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == first.sweep_run_id]
    assert len(children) == 3  # two trials and the final training run
    trials = [r for r in children if "trial" in r.info.run_name]
    assert all("cv_f_avg" in r.data.metrics and "model.C" in r.data.params for r in trials)
    final = next(r for r in children if r.info.run_id == first.final.run_id)
    assert float(final.data.params["model.C"]) == pytest.approx(first.best_params["C"])
    # the caller evaluates the final run (eval sits above training), as `newslab train --sweep` does
    import mlflow

    assert "f_avg" in evaluate_run(first.final.run_id)
    assert "test_f_avg" in mlflow.MlflowClient().get_run(first.final.run_id).data.metrics


@pytest.mark.server
def test_two_machines_share_one_sweep_through_postgresql(
    settings: Settings, shared: Path, postgres: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import subprocess
    import sys

    import optuna

    fetch(["conref_stance_ita"])
    build("conref_ita", limit=60)
    monkeypatch.setenv("NEWSLAB_OPTUNA_STORAGE", postgres)
    here = sweep("conref_ita_svm", trials=1, dataset="conref_ita_n60")
    # a second "machine": another process, the same study database
    other = subprocess.run(
        [
            sys.executable,
            "-m",
            "newslab.cli",
            "train",
            "conref_ita_svm",
            "--sweep",
            "--trials",
            "1",
            "--dataset",
            "conref_ita_n60",
        ],
        env={**os.environ, "NEWSLAB_OPTUNA_STORAGE": postgres},
        capture_output=True,
        text=True,
    )
    assert other.returncode == 0, other.stderr[-2000:]
    study = optuna.load_study(study_name=here.study, storage=postgres)
    assert len(study.trials) == 2 and all(t.state.name == "COMPLETE" for t in study.trials)
    assert "postgresql" not in str(_runs(settings)[0].data.params)  # only the scheme is logged, never the URL


def test_a_config_without_sweep_is_refused(settings: Settings) -> None:
    with pytest.raises(NewslabError, match="has no `sweep:` section"):
        sweep("cameo_tfidf_lr")


def test_sweep_space_must_name_model_params(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(
        "name: x\ntask: stance\ndataset: fnc1\nmodel: {type: tfidf_lr}\n"
        "sweep: {space: {gamma: {low: 1, high: 2}}}\n"
    )
    with pytest.raises(NewslabError, match="'gamma' is not a model parameter"):
        load_experiment(path)


def test_sentence_match_trains_and_reads_back(
    settings: Settings, shared: Path, tmp_path: Path, fake_encoder: None
) -> None:
    """The sentence-matching pair model through MLflow (skops save, newslab's load), with the fake encoder."""

    fetch(["conref_stance_ita"])
    build("conref_ita")
    config = tmp_path / "exp.yaml"
    config.write_text(
        "name: sentences\ntask: stance\ndataset: conref_ita\nseed: 1\nmodel: {type: gbdt_pair, params: "
        "{svd_components: 5, max_iter: 20, sentence_match: true, interactions: 4}}\n"
    )
    result = train(config)
    assert 0 <= evaluate_run(result.run_id)["macro_f1"] <= 1
    loaded = load_model(f"runs:/{result.run_id}/model")
    frame = pd.DataFrame({"text": ["Voto no. La riforma non passa."], "target": ["riforma"]})
    assert list(loaded.predict(frame)) in (["favor"], ["against"], ["neutral"], ["unrelated"])


@pytest.mark.parametrize(
    ("task", "dataset", "model"),
    [
        ("stance", "conref_ita", "{type: tfidf_lr, params: {classifier: cnb}}"),
        ("stance", "conref_ita", "{type: tfidf_lr, params: {classifier: svm, char_ngrams: true}}"),
        ("stance", "conref_ita", "{type: tfidf_pair_lr, params: {classifier: lr}}"),
        ("event_type", "plover_gsr", "{type: tfidf_lr, params: {tune_thresholds: true, char_ngrams: true}}"),
        ("stance", "conref_ita", "{type: spacy_textcat, params: {epochs: 2}}"),
        ("event_type", "plover_gsr", "{type: spacy_textcat, params: {epochs: 2, architecture: ensemble}}"),
        ("stance", "conref_ita", "{type: gbdt, params: {svd_components: 9, max_iter: 10, tune_bias: f_avg}}"),
        ("stance", "conref_ita", "{type: gbdt_pair, params: {svd_components: 10, max_iter: 30}}"),
        ("event_type", "plover_gsr", "{type: gbdt, params: {svd_components: 20, max_iter: 30}}"),
    ],
)
def test_every_model_family_trains_and_reads_back(
    settings: Settings, shared: Path, tmp_path: Path, task: str, dataset: str, model: str
) -> None:
    import mlflow

    fetch(["conref_stance_ita", "plover_gsr"])
    build(dataset)  # full size: registered as champion when it is the best so far
    config = tmp_path / "exp.yaml"
    config.write_text(f"name: family\ntask: {task}\ndataset: {dataset}\nmodel: {model}\nseed: 1\n")
    result = train(config)
    metrics = evaluate_run(result.run_id)
    assert 0 <= metrics["macro_f1"] <= 1

    client = mlflow.MlflowClient()
    assert CONFUSION in {a.path for a in client.list_artifacts(result.run_id, "plots")}
    champion = client.get_model_version_by_alias(registered_name(task, dataset), CHAMPION)
    loaded = load_model(f"models:/{registered_name(task, dataset)}@{CHAMPION}")
    frame = pd.DataFrame({"text": ["Il governo ha firmato un accordo."], "target": ["riforma"]})
    assert len(loaded.predict(frame)) == 1
    if "spacy_textcat" in model:  # a spaCy pipeline: its categories of the text
        assert set(loaded.nlp_(frame["text"][0]).cats) == set(load_schema().task(task).codes)
    assert champion.tags
    if "spacy_textcat" in model and task == "event_type":  # tuned thresholds travel with the pipeline
        estimator = load_model(f"runs:/{result.run_id}/model")
        thresholds = estimator.nlp_.meta["newslab"]["thresholds"]
        assert set(thresholds) == set(load_schema().task(task).codes) and 0 < min(thresholds.values()) < 1
        assert list(estimator.thresholds_) == [thresholds[c] for c in load_schema().task(task).codes]
