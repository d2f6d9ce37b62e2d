"""The backend's model, routes and checks with fakes: no Label Studio, no training, no real model."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import NewslabError
from core.schema import load_schema
from newslab.backend import server
from newslab.backend import status as records
from newslab.backend.choose import champion_uri, choose
from newslab.backend.connect import check_backend
from newslab.backend.model import AlreadyTraining, NewslabMLModel
from newslab.backend.retrain import LabelStudioAccess, RetrainRequest, RetrainResult, better_or_equal
from newslab_model.contract import Card
from tests.conftest import free_port, run_cli
from training.loading import LoadedModel

SCHEMA = load_schema()
CODES = SCHEMA.task("stance").codes
CONFIG = "<View><Text name='text' value='$text'/><Choices name='stance' toName='text'/></View>"


class FakeEstimator:
    """Says "against" for texts with "war" in them, else "neutral"; counts its calls."""

    classes_ = np.array(CODES)

    def __init__(self) -> None:
        self.calls: list[pd.DataFrame] = []

    def predict_proba(self, x: pd.DataFrame) -> np.ndarray:
        self.calls.append(x.copy())
        out = np.full((len(x), len(CODES)), 0.1)
        for i, text in enumerate(x["text"]):
            out[i, CODES.index("against" if "war" in text else "neutral")] = 0.7
        return out

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        return np.array(["against" if "war" in t else "neutral" for t in x["text"]])


def fake_model(version: str = "newslab-stance-newslab/1", task: str = "stance") -> LoadedModel:
    labels = SCHEMA.task(task).codes
    card = Card(
        task, labels, task == "event_type", ["target", "text"], "skops", target_texts={"russia": "Russia"}
    )
    return LoadedModel(f"models:/{version}", FakeEstimator(), card, "run-" + version[-1], version)


class FakeRetrainer:
    """Blocks until released, then reports ``result`` (or raises ``error``)."""

    def __init__(self, result: RetrainResult | None = None, error: Exception | None = None) -> None:
        self.release = threading.Event()
        self.result, self.error = result, error
        self.requests: list[tuple[RetrainRequest, LabelStudioAccess | None]] = []
        self.stopped = False

    def run(self, request: RetrainRequest, access: LabelStudioAccess | None = None) -> RetrainResult:
        self.requests.append((request, access))
        assert self.release.wait(10)
        if self.error:
            raise self.error
        assert self.result is not None
        return self.result

    def stop(self) -> bool:
        self.stopped = True
        return False


def result(serve: bool = True, version: str = "newslab-stance-newslab/2") -> RetrainResult:
    return RetrainResult(
        run_id="run-2",
        version=version,
        uri=f"models:/{version}",
        metric="selection.macro_f1",
        score=0.6 if serve else 0.4,
        previous_score=0.5,
        champion=serve,
        serve=serve,
    )


def make(retrainer: FakeRetrainer | None = None, every: int = 0) -> NewslabMLModel:
    return NewslabMLModel(
        fake_model(),
        "stance",
        SCHEMA,
        experiment="configs/experiments/x.yaml" if retrainer else "",
        retrainer=retrainer,
        retrain_every=every,
        loader=lambda uri: fake_model(uri.removeprefix("models:/")),
    )


def tasks(*texts: str) -> list[dict]:
    return [
        {"id": i, "data": {"text": t, "target": "russia", "article_id": f"a{i}"}} for i, t in enumerate(texts)
    ]


def test_predict_answers_every_task_from_one_model_call() -> None:
    model = make()
    out = model.predict(tasks("a war began", "talks went on", "war again"))
    assert [p["result"][0]["value"]["choices"] for p in out] == [["against"], ["neutral"], ["against"]]
    assert {p["model_version"] for p in out} == {"newslab-stance-newslab/1"}
    assert [p["score"] for p in out] == pytest.approx([0.7, 0.7, 0.7])
    assert all(p["result"][0]["from_name"] == "stance" for p in out)
    estimator = model.loaded.estimator
    (call,) = estimator.calls  # one batch
    assert call["target"].tolist() == ["Russia"] * 3  # target codes read as the model was trained to
    assert model.predict([]) == []
    with pytest.raises(NewslabError, match="task 0: its data has no target"):
        model.predict([{"id": 0, "data": {"text": "x"}}])


def test_setup_checks_the_project_and_keeps_label_studios_token_out_of_sight() -> None:
    model = make(FakeRetrainer(result()))
    assert model.setup(project="3.17", schema=CONFIG, hostname="http://ls:8080/", access_token="s3cret") == {
        "model_version": "newslab-stance-newslab/1"
    }
    events = CONFIG.replace("name='stance'", "name='event_type'")
    with pytest.raises(NewslabError, match="no <Choices name='stance'>"):
        model.setup(project="4.17", schema=events)
    assert "s3cret" not in str(model.status().to_dict()) and "s3cret" not in repr(model._access)
    model.fit("START_TRAINING", {"project": {"id": 3}})
    model.retrainer.release.set()  # type: ignore[union-attr]
    model.wait(10)
    (_, access), *_ = model.retrainer.requests  # type: ignore[union-attr]
    assert access == LabelStudioAccess("http://ls:8080", "s3cret")  # what /setup said, for the pull


def test_start_training_runs_in_the_background_once_and_serves_a_better_model() -> None:
    retrainer = FakeRetrainer(result(serve=True))
    model = make(retrainer)
    started = model.fit("START_TRAINING", {"project": {"id": 3, "label_config": CONFIG}})
    assert started["status"] == "training started"
    assert model.predict(tasks("war"))[0]["model_version"] == "newslab-stance-newslab/1"  # still answers
    with pytest.raises(AlreadyTraining, match="already training"):
        model.fit("START_TRAINING", {"project": {"id": 3}})
    assert model.status().training["state"] == records.TRAINING
    retrainer.release.set()
    last = model.wait(10)
    assert last is not None and last.state == records.SERVED and last.champion
    assert model.model_version == "newslab-stance-newslab/2"
    (request, _), *more = retrainer.requests
    assert not more
    assert (request.previous_version, request.previous_run_id, request.project_id) == (
        "newslab-stance-newslab/1",
        "run-1",
        3,
    )
    assert model.status().training is None and model.status().last_training["version"].endswith("/2")


def test_a_worse_model_is_kept_out_and_a_failure_is_reported() -> None:
    model = make(FakeRetrainer(result(serve=False)))
    model.fit("START_TRAINING", {})
    model.retrainer.release.set()  # type: ignore[union-attr]
    assert model.wait(10).state == records.KEPT  # type: ignore[union-attr]
    assert model.model_version == "newslab-stance-newslab/1"

    failing = make(FakeRetrainer(error=NewslabError("no Label Studio project for task 'stance'.")))
    failing.fit("START_TRAINING", {})
    failing.retrainer.release.set()  # type: ignore[union-attr]
    last = failing.wait(10)
    assert last is not None and last.state == records.FAILED and "no Label Studio project" in last.error
    lines = records.describe(failing.status().to_dict())
    assert any("last training: failed" in line and "no Label Studio project" in line for line in lines)
    failing.fit("START_TRAINING", {})  # a failure does not block the next one
    failing.retrainer.release.set()  # type: ignore[union-attr]
    failing.wait(10)


def test_retrain_every_counts_annotation_events() -> None:
    retrainer = FakeRetrainer(result())
    model = make(retrainer, every=3)
    assert model.fit("ANNOTATION_CREATED", {"annotation": {"id": 1}})["status"] == "counted"
    assert model.fit("PROJECT_UPDATED", {})["status"] == "ignored"
    assert model.fit("ANNOTATION_UPDATED", {"annotation": {"id": 1}})["new_annotations"] == 2
    assert model.fit("ANNOTATION_CREATED", {"annotation": {"id": 2}})["status"] == "training started"
    assert model.status().training["trigger"] == "ANNOTATION_CREATED"
    retrainer.release.set()
    model.wait(10)


def test_a_backend_without_an_experiment_does_not_retrain() -> None:
    model = make()
    with pytest.raises(NewslabError, match="does not retrain"):
        model.fit("START_TRAINING", {})
    assert model.fit("ANNOTATION_CREATED", {})["status"] == "ignored"


def test_the_routes_speak_label_studios_protocol() -> None:
    retrainer = FakeRetrainer(result())
    model = make(retrainer)
    client = server.create_app(model).test_client()
    health = client.get("/health").get_json()
    assert health["status"] == "UP" and health["model_version"] == "newslab-stance-newslab/1"
    assert health["labels"] == CODES and health["task"] == "stance"
    setup = client.post(
        "/setup", json={"project": "3.1", "schema": CONFIG, "hostname": "h", "access_token": "t"}
    )
    assert setup.get_json() == {"model_version": "newslab-stance-newslab/1"}
    body = {
        "tasks": tasks("war", "peace"),
        "project": "3.1",
        "label_config": CONFIG,
        "params": {"context": None},
    }
    predicted = client.post("/predict", json=body).get_json()
    assert len(predicted["results"]) == 2
    refused = client.post("/predict", json={"tasks": [{"id": 9, "data": {}}]})
    assert refused.status_code == 400 and "task 9" in refused.get_json()["error"]
    assert client.post("/predict", data="nonsense").status_code == 400
    assert client.post("/webhook", json={"action": "TASKS_CREATED", "project": {}}).status_code == 200
    first = client.post("/webhook", json={"action": "START_TRAINING", "project": {"id": 3}})
    assert first.status_code == 201 and first.get_json()["result"]["status"] == "training started"
    second = client.post("/train", json={"annotations": [], "project": "3.17", "label_config": CONFIG})
    assert second.status_code == 200 and second.get_json()["status"] == "already training"
    retrainer.release.set()
    model.wait(10)
    assert client.get("/versions").get_json() == {"versions": ["newslab-stance-newslab/2"]}
    assert client.get("/metrics").get_json()["predicted_tasks"] == 2


def test_choose_refuses_a_missing_model_a_wrong_task_and_a_wrong_experiment(settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NewslabError, match="no champion of stance on pilot") as missing:
        choose(experiment="pilot_stance_lr", settings=settings)
    assert "newslab train" in (missing.value.hint or "")
    assert champion_uri("stance", "pilot") == "models:/newslab-stance-pilot@champion"
    with pytest.raises(NewslabError, match="cannot be read"):
        choose(model="runs:/0123456789abcdef0123456789abcdef/model", settings=settings)
    events = fake_model("newslab-event_type-pilot/1", "event_type")
    with pytest.raises(NewslabError, match="predicts 'event_type', not 'stance'"):
        choose(model="m", task="stance", settings=settings, loader=lambda uri: events)
    with pytest.raises(NewslabError, match="trains 'event_type', not 'stance'"):
        choose(model="m", task="stance", experiment="pilot_events_lr", settings=settings)
    with pytest.raises(NewslabError, match="derived"):
        choose(model="m", task="event_quad", settings=settings, loader=lambda uri: events)
    with pytest.raises(NewslabError, match="needs a model"):
        choose(settings=settings)
    choice, loaded = choose(model="m", settings=settings, loader=lambda uri: fake_model())
    assert (choice.task, choice.experiment, loaded.version) == ("stance", "", "newslab-stance-newslab/1")


@pytest.mark.slow  # two runs of the command line
def test_an_unreachable_backend_or_label_studio_is_said_before_any_write(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NewslabError, match="no newslab backend answers"):
        check_backend(nowhere, SCHEMA)
    env = {
        "NEWSLAB_DATA_DIR": str(tmp_path / "data"),
        "NEWSLAB_LS_URL": nowhere,
        "LABEL_STUDIO_API_KEY": "t0ken",
    }
    down = run_cli("annotate", "setup", "--backend", nowhere, env=env)
    assert down.returncode == 1 and "no newslab backend answers" in down.stderr
    running = server.start(make())  # a backend that answers, a Label Studio that does not
    try:
        info = check_backend(running.url, SCHEMA)
        assert (info.task, info.model_version) == ("stance", "newslab-stance-newslab/1")
        no_ls = run_cli("annotate", "setup", "--backend", running.url, env=env)
        assert no_ls.returncode == 1 and "is not reachable" in no_ls.stderr
        assert "t0ken" not in no_ls.stdout + no_ls.stderr
    finally:
        running.stop()
    assert not (tmp_path / "data").exists()  # nothing written anywhere


def test_a_backend_for_another_schema_is_refused() -> None:
    model = make()
    other = NewslabMLModel(
        LoadedModel(
            "m", FakeEstimator(), Card("stance", ["pro", "con"], False, ["text"], "skops"), "", "old/1"
        ),
        "stance",
        SCHEMA,
    )
    for ml, fine in ((model, True), (other, False)):
        running = server.start(ml)
        try:
            if fine:
                check_backend(running.url, SCHEMA)
            else:
                with pytest.raises(NewslabError, match="labels pro, con"):
                    check_backend(running.url, SCHEMA)
        finally:
            running.stop()


def test_the_new_model_is_served_when_at_least_as_good() -> None:
    assert better_or_equal(0.5, 0.5) and better_or_equal(0.6, None)
    assert not better_or_equal(0.4, 0.5) and not better_or_equal(None, 0.1)
