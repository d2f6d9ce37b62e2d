"""`newslab annotate next` against a real Label Studio with the pilot's models: exactly N new tasks in
every project of the task, with pre-annotations and scores; labelled items and their near-duplicates
left out; a second round picks other items; each round logged in MLflow; refusals push nothing."""

from __future__ import annotations

import json
import random
from pathlib import Path

import mlflow
import pytest

from annotation.projects import find_projects, setup
from annotation.push import existing_tasks, make_tasks, push, select_articles
from core import tracking
from core.errors import NewslabError
from core.schema import load_schema
from corpus.ingest import ingest
from corpus.store import Store
from newslab.active.next import KIND, SCORE_FIELD, next_round
from tests.conftest import PilotModels, run_cli

pytestmark = [pytest.mark.server, pytest.mark.slow]
SCHEMA = load_schema()
WORDS = [
    "river",
    "barge",
    "toll",
    "minister",
    "border",
    "shipping",
    "dispute",
    "court",
    "grain",
    "port",
    "treaty",
    "strike",
]
#: a long story (distinct word shingles) and its copy with a word added: near-duplicates
STORY = " ".join(random.Random(7).choice(WORDS) + str(i) for i in range(300))


def _settings(ls, pilot: PilotModels):  # type: ignore[no-untyped-def]
    settings, conn = ls
    return pilot.settings.model_copy(
        update={
            "ls_port": settings.ls_port,
            "ls_url": conn.url,
            "ls_project_prefix": settings.ls_project_prefix,
        }
    ), conn


def _tasks(conn, project_id: int) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """key -> {data, predictions} of every task of a project."""
    out = {}
    for t in conn.client().tasks.list(project=project_id, fields="all"):
        data = t.data or {}
        key = f"{data['article_id']}:{data['target']}" if data.get("target") else data["article_id"]
        out[key] = {"id": t.id, "data": data, "predictions": [p.model_dump() for p in t.predictions or []]}
    return out


def _annotate(conn, task_id: int, labels: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = [{"from_name": "event_type", "to_name": "text", "type": "choices", "value": {"choices": labels}}]
    conn.client().annotations.create(id=task_id, result=result)


def test_next_pushes_the_most_useful_items_round_after_round(ls, pilot: PilotModels, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings, conn = _settings(ls, pilot)
    # a story and its near-copy: once the story is labelled, the copy must never be offered
    source = tmp_path / "copies.jsonl"
    copy = STORY + " Updated."
    source.write_text(
        "".join(
            json.dumps({"title": t, "text": x}) + "\n" for t, x in (("river-1", STORY), ("river-2", copy))
        )
    )
    ingest([source], root=settings.corpus_dir)
    store = Store(settings.corpus_dir)
    river = {
        r["title"]: r["id"]
        for r in store.table(["id", "title"]).to_pylist()
        if r["title"].startswith("river-")
    }
    setup(conn, SCHEMA, ["al-ann@example.org"], settings)
    projects = [p for p in find_projects(conn, SCHEMA, settings) if p.task == "event_type"]
    main = next(p for p in projects if not p.annotator)
    labelled = make_tasks(SCHEMA, "event_type", select_articles(store, [river["river-1"]]))
    push(conn, main, labelled, settings=settings)
    _annotate(conn, existing_tasks(conn, main.id)[river["river-1"]]["id"], ["CONSULT"])

    events = pilot.events_run
    before = {p.title: set(_tasks(conn, p.id)) for p in projects}
    with pytest.raises(NewslabError, match="a batch of 100,000 from a pool of"):
        next_round("event_type", 100_000, "label_uncertainty", events, settings=settings, conn=conn)
    with pytest.raises(NewslabError, match="no trained model to choose the next items with"):
        next_round("event_type", 5, "label_uncertainty", dataset="nosuch", settings=settings, conn=conn)
    with pytest.raises(NewslabError, match="not defined for multi-label tasks"):
        next_round("event_type", 5, "least_confidence", events, settings=settings, conn=conn)
    assert {p.title: set(_tasks(conn, p.id)) for p in projects} == before  # nothing pushed

    first = next_round("event_type", 5, "label_uncertainty", events, settings=settings, conn=conn)
    assert first.round == 1 and len(first.chosen) == 5
    assert first.pool.labelled == 1 and first.pool.near_duplicates == 1
    assert river["river-2"] not in first.pool.keys and river["river-1"] not in first.pool.keys
    chosen = [c.key for c in first.chosen]
    assert [c.score for c in first.chosen] == sorted((c.score for c in first.chosen), reverse=True)
    for project in projects:  # every project, the annotator's sibling included, gets exactly the batch
        now = _tasks(conn, project.id)
        assert set(now) - before[project.title] == set(chosen), project.title
        for c in first.chosen:
            task = now[c.key]
            assert task["data"][SCORE_FIELD] == pytest.approx(c.score, abs=1e-6)
            assert [p["model_version"] for p in task["predictions"]] == [events]
            assert sorted(task["predictions"][0]["result"][0]["value"]["choices"]) == sorted(c.predicted)
    run = mlflow.get_run(first.run_id)
    assert run.data.tags[tracking.KIND_TAG] == KIND and run.data.params["strategy"] == "label_uncertainty"
    assert run.data.params["model_version"] == events and run.info.status == "FINISHED"
    logged = mlflow.artifacts.load_dict(f"runs:/{first.run_id}/al_round/chosen.json")
    assert [c["key"] for c in logged] == chosen
    assert "first model" in first.signal.message

    for key in chosen[:3]:  # the annotator labels part of the batch
        _annotate(conn, _tasks(conn, main.id)[key]["id"], ["CONSULT"])
    champion = "models:/newslab-event_type-pilot@champion"  # the same model, another version name
    second = next_round("event_type", 5, "label_uncertainty", champion, settings=settings, conn=conn)
    assert second.round == 2 and not {c.key for c in second.chosen} & set(chosen)
    assert second.pool.labelled == 4
    # two versions of one model: they agree fully, and one comparison is not yet a signal
    assert second.signal.kappas == [1.0] and not second.signal.stop
    assert [p.round for p in second.curve] == [1, 2] and [p.labelled for p in second.curve] == [1, 4]
    assert second.curve[1].kappa == 1.0


def test_next_from_the_command_line(ls, pilot: PilotModels) -> None:  # type: ignore[no-untyped-def]
    settings, conn = _settings(ls, pilot)
    env = {
        "NEWSLAB_DATA_DIR": str(settings.data_dir),
        "NEWSLAB_LS_URL": conn.url,
        "LABEL_STUDIO_API_KEY": conn.token,
        "NEWSLAB_LS_PROJECT_PREFIX": settings.ls_project_prefix,
    }
    missing = run_cli("annotate", "next", "stance", "--batch", "3", "--model", pilot.stance_run, env=env)
    assert missing.returncode == 1 and "no Label Studio project for task 'stance'" in missing.stderr
    assert run_cli("annotate", "setup", env=env).returncode == 0
    done = run_cli("annotate", "next", "stance", "--batch", "3", "--model", pilot.stance_run, env=env)
    assert done.returncode == 0, done.stderr
    assert "round 1 of stance: 3 of" in done.stdout and "added 3" in done.stdout
    assert "learning curve so far" in done.stdout and "No stopping signal yet" in done.stdout
    stance = next(p for p in find_projects(conn, SCHEMA, settings) if p.task == "stance" and not p.annotator)
    assert len(_tasks(conn, stance.id)) == 3


def test_audit_sends_the_doubted_gold_labels_to_review_with_every_label_shown(ls, pilot: PilotModels) -> None:  # type: ignore[no-untyped-def]
    from annotation.projects import REVIEW
    from newslab.active.audit import audit_task

    settings, conn = _settings(ls, pilot)
    report = audit_task("stance", "pilot_stance_lr", split="all", top=5, settings=settings, conn=conn)
    flagged = report.table[report.table["flagged"]]
    assert len(flagged) >= 5 and len(report.flagged) == 5 and report.out.exists()
    assert report.items == len(report.table)
    # the pilot's second pass: two annotators share 41 articles, so CROWDLAB weighs them
    assert report.crowdlab is not None
    assert set(report.crowdlab.annotators.index) == {
        "maintainer-1@newslab.local",
        "maintainer-2@newslab.local",
    }
    assert report.pushed is not None and report.pushed.added == 5
    review = next(
        p for p in find_projects(conn, SCHEMA, settings) if p.task == "stance" and p.annotator == REVIEW
    )
    queued = _tasks(conn, review.id)
    assert set(queued) == {f.id for f in report.flagged}
    for f in report.flagged:
        task = queued[f.id]
        assert task["predictions"] == []  # nothing pre-ticked
        assert "maintainer-1@newslab.local: " in task["data"]["votes"]
        assert task["data"]["suggestion"].endswith("(a model trained without this item)")
        assert task["data"]["reason"] == f.reason and f.reason
    again = audit_task("stance", "pilot_stance_lr", split="all", top=5, settings=settings, conn=conn)
    assert again.pushed.added == 0 and again.pushed.existing == 5
