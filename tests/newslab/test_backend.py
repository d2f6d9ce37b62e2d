"""The ML backend as Label Studio meets it: a real backend process, the session's real Label Studio.

(a) ``/predict`` answers LS-shaped tasks one result each, with the model's version and a score;
(b) ``annotate setup --backend`` connects it, and opening a task through Label Studio's API
    stores the backend's prediction; (c) Label Studio's "Start training" retrains the experiment
    in the background, tags the run with its lineage, moves the champion and serves the new model.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import mlflow
import pandas as pd
import pytest

from annotation.label_config import label_config
from annotation.projects import find_projects, setup
from core.hashing import text_hash
from core.schema import load_schema
from core.settings import get_settings
from eval.evaluate import CHAMPION, evaluate_run, registered_name
from newslab.backend.connect import check_backend, connect_backend
from newslab.backend.retrain import PREVIOUS_TAG, TRIGGER_TAG
from tests.conftest import PilotModels, pilot_copy, run_cli
from tests.newslab.conftest import UNSET_TRACKING, BackendProcess, ls_env
from training.loading import load
from training.train import train

pytestmark = [pytest.mark.server, pytest.mark.slow]
SCHEMA = load_schema()
STANCE = registered_name("stance", "pilot")
ARTICLES = [
    ("Russia shelled Kyiv overnight; Ukraine said NATO must send more air defence.", "russia"),
    ("Ukraine and the European Union signed a deal on grain exports in Brussels.", "ukraine"),
    ("Heavy rain is expected across the valley this weekend; China was not mentioned.", "china"),
]


def _data(i: int, text: str, target: str) -> dict:
    """A stance task's data as `newslab annotate push` makes it."""
    return {
        "article_id": f"art-{i}",
        "text_hash": text_hash(text),
        "title": f"Article {i}",
        "text": text,
        "lang": "en",
        "source": "test",
        "url": "",
        "target": target,
        "target_name": target.replace("_", " ").title(),
    }


def test_predict_answers_every_task_with_the_model_version_and_a_score(
    pilot_backend: BackendProcess, pilot: PilotModels
) -> None:
    tasks = [
        {"id": 100 + i, "data": _data(i, text, target), "meta": {}, "annotations": [], "predictions": []}
        for i, (text, target) in enumerate(ARTICLES)
    ]
    request = {
        "tasks": tasks,
        "project": "7.1764000000",
        "label_config": label_config(SCHEMA, "stance"),
        "params": {"login": None, "password": None, "context": None},
    }
    started = time.perf_counter()
    response = httpx.post(f"{pilot_backend.url}/predict", json=request, timeout=30)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    body = response.json()
    results = body["results"]
    assert len(results) == len(tasks)
    assert body["model_version"] == f"{STANCE}/1"
    for result in results:
        assert result["model_version"] == f"{STANCE}/1"
        assert 0.0 <= result["score"] <= 1.0
        (region,) = result["result"]
        assert (region["from_name"], region["to_name"], region["type"]) == ("stance", "text", "choices")
        assert region["value"]["choices"][0] in SCHEMA.task("stance").codes
    # the same labels as the model itself gives, target codes read as the model was trained to
    loaded = load(f"models:/{STANCE}@{CHAMPION}")
    frame = pd.DataFrame({"target": [t for _, t in ARTICLES], "text": [a for a, _ in ARTICLES]})
    expected = loaded.predict(frame)["label"].tolist()
    assert [r["result"][0]["value"]["choices"][0] for r in results] == expected
    assert elapsed < 5

    refused = httpx.post(f"{pilot_backend.url}/predict", json={"tasks": [{"id": 1, "data": {"text": "x"}}]})
    assert refused.status_code == 400 and "target" in refused.json()["error"]
    health = pilot_backend.health()
    assert (health["status"], health["model_version"], health["task"]) == ("UP", f"{STANCE}/1", "stance")


def test_setup_connects_the_backend_and_an_opened_task_gets_its_prediction(
    pilot_backend: BackendProcess, ls
) -> None:  # type: ignore[no-untyped-def]
    settings, conn = ls
    env = ls_env(settings, conn.token)
    first = run_cli("annotate", "setup", "--backend", pilot_backend.url, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "created" in first.stdout
    again = run_cli("annotate", "setup", "--backend", pilot_backend.url, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "unchanged" in again.stdout and "created" not in again.stdout
    assert conn.token not in first.stdout + first.stderr + again.stdout + again.stderr

    client = conn.client()
    projects = {p.task: p for p in find_projects(conn, SCHEMA, settings) if not p.annotator}
    stance = projects["stance"]
    (backend,) = client.ml.list(project=stance.id)  # one connection, however often setup runs
    assert backend.url.rstrip("/") == pilot_backend.url
    assert not client.ml.list(project=projects["event_type"].id)  # only the backend's task
    project = client.projects.get(id=stance.id)
    assert project.model_version == "newslab-stance" and project.show_collab_predictions

    text, target = ARTICLES[0]
    task = client.tasks.create(project=stance.id, data=_data(0, text, target))
    opened = httpx.get(f"{conn.url}/api/tasks/{task.id}", headers=conn.headers, timeout=60)
    assert opened.status_code == 200
    (predicted,) = opened.json()["predictions"]
    assert predicted["model_version"] == f"{STANCE}/1"
    assert 0.0 <= predicted["score"] <= 1.0
    assert predicted["result"][0]["value"]["choices"][0] in SCHEMA.task("stance").codes
    stored = httpx.get(f"{conn.url}/api/predictions/", params={"task": task.id}, headers=conn.headers).json()
    assert [p["model_version"] for p in stored] == [f"{STANCE}/1"]  # kept in Label Studio, asked once

    # the labeling stream (what an annotator's "Label all tasks" opens) shows it too
    stream = httpx.get(f"{conn.url}/api/projects/{stance.id}/next", headers=conn.headers, timeout=60)
    assert stream.status_code == 200, stream.text
    assert [p["model_version"] for p in stream.json()["predictions"]] == [f"{STANCE}/1"]


WEAK = """\
name: pilot-stance-weak
task: stance
dataset: pilot/stance
description: A deliberately weak first model (text only, 50 words, heavily regularised).
seed: 13
model:
  type: tfidf_lr
  params: {word_ngram_max: 1, max_features: 50, C: 0.001}
"""


def test_start_training_retrains_in_the_background_and_serves_a_better_model(
    ls, pilot_models: PilotModels, backend_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    settings, conn = ls
    data = pilot_copy(pilot_models, tmp_path / "data")
    monkeypatch.setenv("NEWSLAB_DATA_DIR", str(data))
    monkeypatch.delenv("NEWSLAB_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    get_settings.cache_clear()
    store = get_settings()
    weak_config = tmp_path / "weak.yaml"
    weak_config.write_text(WEAK)
    weak = train(weak_config, settings=store)
    evaluate_run(weak.run_id, store, n_boot=0)  # the champion: version 1, a weak one
    client = mlflow.MlflowClient()
    assert str(client.get_model_version_by_alias(STANCE, CHAMPION).version) == "1"

    # a project with a few annotations for the pull
    projects = {r.project.task: r.project for r in setup(conn, SCHEMA, settings=settings)}
    stance = projects["stance"]
    ls_client = conn.client()
    for i, (text, target) in enumerate(ARTICLES[:2]):
        task = ls_client.tasks.create(project=stance.id, data=_data(i, text, target))
        region = {"from_name": "stance", "to_name": "text", "type": "choices"}
        region["value"] = {"choices": ["against"]}
        ls_client.annotations.create(id=task.id, result=[region], project=stance.id)

    env = {"NEWSLAB_DATA_DIR": str(data), **UNSET_TRACKING, **ls_env(settings, conn.token)}
    backend = backend_factory(["--experiment", "pilot_stance_lr"], env)
    assert backend.health()["model_version"] == f"{STANCE}/1"
    connect_backend(conn, SCHEMA, check_backend(backend.url, SCHEMA), settings)
    (ml,) = ls_client.ml.list(project=stance.id)

    # the project's "Start training" button
    pressed = httpx.post(f"{conn.url}/api/ml/{ml.id}/train", headers=conn.headers, timeout=120)
    assert pressed.status_code == 200, pressed.text
    training = backend.health()["training"]
    assert training and training["trigger"] == "START_TRAINING", backend.health()  # sent as a webhook
    event = {"action": "START_TRAINING", "project": {"id": stance.id}}
    second = httpx.post(f"{backend.url}/webhook", json=event)
    assert second.json()["status"] == "already training"
    started = time.perf_counter()
    one = {"tasks": [{"id": 1, "data": _data(0, *ARTICLES[0])}]}
    answered = httpx.post(f"{backend.url}/predict", json=one)
    assert answered.status_code == 200 and time.perf_counter() - started < 5  # predicting while it trains

    deadline = time.monotonic() + 400
    while backend.health()["training"] and time.monotonic() < deadline:
        time.sleep(2)
    status = backend.health()
    last = status["last_training"]
    assert last and last["state"] == "served", (last, backend.output())
    assert last["champion"] and last["version"] == f"{STANCE}/2"
    assert last["score"] >= last["previous_score"]
    assert status["model_version"] == f"{STANCE}/2"

    run = client.get_run(last["run_id"])
    assert run.data.tags[TRIGGER_TAG] == "backend"
    assert run.data.tags[PREVIOUS_TAG] == f"{STANCE}/1"
    assert run.data.tags["newslab.experiment"] == "pilot-stance-pair-lr"
    assert str(client.get_model_version_by_alias(STANCE, CHAMPION).version) == "2"
    assert (data / "annotations" / "stance.parquet").exists()  # the pull ran
    again = httpx.post(f"{backend.url}/predict", json=one)
    assert again.json()["results"][0]["model_version"] == f"{STANCE}/2"

    printed = run_cli("annotate", "backend", "--status", "--url", backend.url)
    assert printed.returncode == 0, printed.stderr
    assert f"serving {STANCE}/2" in printed.stdout and "last training: served" in printed.stdout
    assert conn.token not in backend.output() + printed.stdout
