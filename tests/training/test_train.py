"""The main job end to end on a small slice, read back from the real MLflow store it wrote."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pandas as pd
import pytest

from core.assets import fetch
from core.errors import NewslabError
from core.settings import Settings
from dataset.build import build
from tests.conftest import run_cli


@pytest.mark.slow
def test_newslab_run_on_a_slice_logs_comparable_runs(settings: Settings, shared: Path) -> None:
    env = {"NEWSLAB_DATA_DIR": str(settings.data_dir)}
    result = run_cli("run", "--limit", "60", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Talos (FNC-1 1st)" in result.stdout and "82.02 %" in result.stdout
    assert "fnc1-tfidf-pair-lr" in result.stdout and "cameo-tfidf-lr" in result.stdout

    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(settings.resolved_tracking_uri)
    client = MlflowClient()
    runs = mlflow.search_runs(search_all_experiments=True, output_format="list")
    by_name = {r.data.tags["newslab.experiment"]: r for r in runs}
    assert set(by_name) == {
        "fnc1-tfidf-pair-lr",
        "cameo-tfidf-lr",
        "conref-ita-svm",
        "conref-ita-svm-author",
        "plover-lr",
        "pilot-events-lr",
        "pilot-stance-pair-lr",
    }
    experiments = {client.get_experiment(r.info.experiment_id).name for r in runs}
    assert experiments == {
        "stance-fnc1",
        "event_quad-cameo_pentacode",
        "stance-conref_ita",
        "event_type-plover_gsr",
        "event_type-pilot",
        "stance-pilot",
    }
    assert all(r.data.params["dataset.limit"] == "60" for r in runs)

    for name, run in by_name.items():
        meta = json.loads((Path(run.data.tags["newslab.dataset_path"]) / "newslab.json").read_text())
        params, metrics, tags = run.data.params, run.data.metrics, run.data.tags
        # the same param names on every run, so the compare view lines runs up
        for key in (
            "model.type",
            "model.C",
            "seed",
            "dataset.name",
            "dataset.fingerprint",
            "schema.version",
        ):
            assert key in params, (name, key)
        assert params["dataset.fingerprint"] == meta["fingerprint"]
        assert params["dataset.train_size"] == "60"
        accuracy = metrics.get("test_accuracy", metrics.get("test_subset_accuracy"))  # multi-label: subset
        assert 0.0 <= metrics["test_macro_f1"] <= 1.0 and 0.0 <= accuracy <= 1.0
        assert (
            len(tags["mlflow.source.git.commit"]) in (40, 7) or tags["mlflow.source.git.commit"] == "unknown"
        )
        inputs = {
            {t.key: t.value for t in i.tags}["mlflow.data.context"]: i.dataset
            for i in run.inputs.dataset_inputs
        }
        assert set(inputs) == set(meta["counts"])  # every split of the dataset
        assert all(d.digest == meta["fingerprint"] for d in inputs.values())
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "config")}
        assert artifacts == {"config/experiment.yaml", "config/labels.json"}
        predictions = pd.read_parquet(
            mlflow.artifacts.download_artifacts(
                run_id=run.info.run_id, artifact_path="predictions/test.parquet"
            )
        )
        assert len(predictions) == meta["counts"]["test"] <= 60  # the pilot's test splits are smaller
        same = [
            sorted(p) == sorted(g) if name in ("plover-lr", "pilot-events-lr") else p == g
            for p, g in zip(predictions["pred"], predictions["gold"], strict=True)
        ]
        assert sum(same) / len(same) == pytest.approx(accuracy)

    assert 0.0 < by_name["fnc1-tfidf-pair-lr"].data.metrics["test_fnc_score"] <= 1.0

    # the logged model loads in a fresh process (newslab's loader: its own trust list) and predicts codes
    from training.loading import load_model

    model_id = by_name["cameo-tfidf-lr"].outputs.model_outputs[0].model_id
    model = load_model(f"models:/{model_id}")
    predicted = model.predict(pd.DataFrame({"text": ["Troops shelled the city overnight."]}))
    assert predicted[0] in {
        "statement",
        "verbal_cooperation",
        "material_cooperation",
        "verbal_conflict",
        "material_conflict",
    }

    # the author model takes the account as optional input: with it, or from text alone
    model_id = by_name["conref-ita-svm-author"].outputs.model_outputs[0].model_id
    author_model = load_model(f"models:/{model_id}")
    tweet = "Il 4 dicembre voto convinto, la riforma non mi piace."
    with_author = pd.DataFrame({"text": [tweet], "author": ["@someone"]})
    codes = {"favor", "against", "neutral", "unrelated"}
    assert author_model.predict(with_author)[0] in codes
    assert author_model.predict(pd.DataFrame({"text": [tweet]}))[0] in codes

    # a second build of the same slice writes nothing
    assert not build("cameo_pentacode", limit=60).written

    results = run_cli("eval", "results", env=env)
    assert results.returncode == 0 and "published" in results.stdout


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("http://127.0.0.1:{port}", "MLflow server"),
        ("postgresql+psycopg://newslab:pw-secret@127.0.0.1:{port}/mlflow", "postgresql"),
    ],
)
def test_tracking_server_down_fails_before_training(
    settings: Settings, shared: Path, monkeypatch: pytest.MonkeyPatch, uri: str, kind: str
) -> None:
    fetch(["cameo_pentacode"])
    build("cameo_pentacode", limit=50)
    monkeypatch.setenv("NEWSLAB_TRACKING_URI", uri.format(port=_closed_port()))
    from core.settings import get_settings
    from training import runner
    from training import train as train_mod

    get_settings.cache_clear()

    def no_training(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("training started although the server is down")

    monkeypatch.setattr(runner, "build_model", no_training)
    with pytest.raises(NewslabError, match=rf"\({kind}\) is not reachable") as caught:
        train_mod.train("cameo_tfidf_lr", dataset="cameo_pentacode_n50")
    assert "pw-secret" not in str(caught.value)


def test_train_on_a_dataset_of_another_task_is_refused(settings: Settings, shared: Path) -> None:
    fetch(["cameo_pentacode"])
    build("cameo_pentacode", limit=50)
    from training.train import train

    with pytest.raises(NewslabError, match="dataset is for task 'event_quad'"):
        train("fnc1_tfidf_lr", dataset="cameo_pentacode_n50")
