"""Integration tests against a real Label Studio (started by the session fixture)."""

from __future__ import annotations

import json
import random

import httpx
import pytest
import yaml

from annotation import server
from annotation.client import connect
from annotation.projects import find_projects, setup
from annotation.pull import pull
from annotation.push import ArticleRow, existing_tasks, make_tasks, push
from annotation.users import ensure_annotators
from core.errors import NewslabError
from core.schema import DEFAULT_SCHEMA_PATH, Schema, load_schema
from core.settings import Settings

pytestmark = [pytest.mark.server, pytest.mark.slow]
SCHEMA = load_schema()


def _articles(n: int, start: int = 0) -> list[ArticleRow]:
    return [
        ArticleRow(
            f"art{i:05d}",
            f"Title {i}",
            f"Body of article {i}. Troops moved.",
            "en",
            "test",
            f"https://example.org/{i}",
        )
        for i in range(start, start + n)
    ]


def _choice(task: str, label: str) -> list[dict]:
    return [{"from_name": task, "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


def test_serve_is_idempotent_and_status_reports(ls) -> None:  # type: ignore[no-untyped-def]
    settings, conn = ls
    info = server.status(settings)
    assert info.running and info.url == conn.url
    assert server.serve(settings).pid == info.pid  # already running: nothing started
    who = httpx.get(f"{conn.url}/api/current-user/whoami", headers=conn.headers, timeout=10).json()
    assert who["email"] == server.credentials(settings).username


def test_a_server_that_is_down_gives_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import free_port

    settings = Settings(data_dir=tmp_path, ls_url=f"http://127.0.0.1:{free_port()}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LABEL_STUDIO_API_KEY", "x" * 40)
        with pytest.raises(NewslabError, match="not reachable"):
            connect(settings)


def test_setup_creates_updates_and_refuses_to_orphan_annotations(ls, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings, conn = ls
    first = setup(conn, SCHEMA, settings=settings)
    assert [(r.project.task, r.action) for r in first] == [("stance", "created"), ("event_type", "created")]
    assert [r.action for r in setup(conn, SCHEMA, settings=settings)] == ["unchanged", "unchanged"]

    # a changed definition changes the config: the project is updated
    data = yaml.safe_load(DEFAULT_SCHEMA_PATH.read_text())
    data["tasks"]["stance"]["labels"][2]["definition"] = "Reports positions without taking a side."
    changed = Schema.model_validate(data)
    assert [r.action for r in setup(conn, changed, settings=settings)] == ["updated", "unchanged"]

    # an annotation uses "neutral": a schema without it is refused, naming the task
    stance = next(p for p in find_projects(conn, SCHEMA, settings) if p.task == "stance")
    push(
        conn,
        stance,
        [
            {
                "article_id": "a1",
                "text_hash": "h",
                "title": "t",
                "text": "x",
                "target": "russia",
                "target_name": "Russia",
            }
        ],
    )
    task_id = next(iter(existing_tasks(conn, stance.id).values()))["id"]
    conn.client().annotations.create(id=task_id, result=_choice("stance", "neutral"))
    data["tasks"]["stance"]["labels"].pop(2)
    with pytest.raises(NewslabError) as err:
        setup(conn, Schema.model_validate(data), settings=settings)
    assert "neutral" in err.value.message and f"task {task_id} (article a1)" in err.value.message


def test_push_1000_annotate_as_two_users_pull_and_push_again(ls, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings, conn = ls
    setup(conn, SCHEMA, settings=settings)
    project = next(p for p in find_projects(conn, SCHEMA, settings) if p.task == "event_type")
    tasks = make_tasks(SCHEMA, "event_type", _articles(1000))
    predictions = {
        "art00000": {"model_version": "m1", "score": 0.6, "result": _choice("event_type", "ASSAULT")}
    }
    first = push(conn, project, tasks, predictions, batch_size=300)
    assert first.added == 1000 and first.existing == 0
    again = push(conn, project, tasks)
    assert again.added == 0 and again.existing == 1000

    alice, bob = ensure_annotators(conn, ["alice@example.org", "bob@example.org"], settings)
    ids = {k: v["id"] for k, v in existing_tasks(conn, project.id).items()}
    client = conn.client()
    expected = set()
    for i in range(30):  # alice labels 30 tasks, bob 20 of them too (double annotation)
        key = f"art{i:05d}"
        client.annotations.create(
            id=ids[key],
            result=_choice("event_type", "ASSAULT"),
            completed_by=alice.id,
            lead_time=10.0 + i,
            ground_truth=False,
        )
        expected.add((key, "alice@example.org", ("ASSAULT",), False))
        if i < 20:
            labels = ["AGREE", "CONSULT"] if i % 2 else ["ASSAULT"]
            result = [
                {
                    "from_name": "event_type",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": labels},
                }
            ]
            client.annotations.create(id=ids[key], result=result, completed_by=bob.id, ground_truth=False)
            expected.add((key, "bob@example.org", tuple(labels), False))
    # bob skips one task, alice updates one annotation, bob leaves a draft
    client.annotations.create(id=ids["art00500"], result=[], completed_by=bob.id, was_cancelled=True)
    expected.add(("art00500", "bob@example.org", (), True))
    mine = next(iter(client.annotations.list(id=ids["art00029"])))
    client.annotations.update(id=mine.id, result=_choice("event_type", "PROTEST"))
    expected.discard(("art00029", "alice@example.org", ("ASSAULT",), False))
    expected.add(("art00029", "alice@example.org", ("PROTEST",), False))
    draft = httpx.post(
        f"{conn.url}/api/tasks/{ids['art00600']}/drafts",
        json={"result": _choice("event_type", "AID")},
        headers={"Authorization": f"Token {bob.token}"},
        timeout=30,
    )
    assert draft.status_code == 201, draft.text

    result = pull(conn, SCHEMA, [project], settings)
    frame, [snapshot] = result["event_type"]
    annotations = frame[frame["kind"] == "annotation"]
    got = {(r.article_id, r.annotator, tuple(r.labels), bool(r.cancelled)) for r in annotations.itertuples()}
    assert got == expected
    drafts = frame[frame["kind"] == "draft"]
    assert [(d.article_id, d.annotator, list(d.labels)) for d in drafts.itertuples()] == [
        ("art00600", "bob@example.org", ["AID"])
    ]
    preds = frame[frame["kind"] == "prediction"]
    assert [(p.article_id, p.annotator, list(p.labels), p.score) for p in preds.itertuples()] == [
        ("art00000", "m1", ["ASSAULT"], 0.6)
    ]
    assert snapshot.tasks == 1000 and snapshot.path.stat().st_mode & 0o222 == 0
    committable = (settings.annotations_dir / "event_type.jsonl").read_text().splitlines()
    assert len(committable) == len(expected)
    assert all("text" not in json.loads(line) for line in committable)


def test_interrupted_push_resumes_with_exactly_the_missing_tasks(ls, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings, conn = ls
    setup(conn, SCHEMA, settings=settings)
    project = next(p for p in find_projects(conn, SCHEMA, settings) if p.task == "event_type")
    tasks = make_tasks(SCHEMA, "event_type", _articles(250))
    projects_client = type(conn.client().projects)
    real = projects_client.import_tasks
    calls = {"n": 0}

    def fail_on_third_batch(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("connection reset by peer (simulated crash)")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(projects_client, "import_tasks", fail_on_third_batch)
    with pytest.raises(NewslabError, match="simulated crash"):
        push(conn, project, tasks, batch_size=50)
    assert len(existing_tasks(conn, project.id)) == 100
    monkeypatch.setattr(projects_client, "import_tasks", real)
    resumed = push(conn, project, tasks, batch_size=50)
    assert resumed.added == 150 and resumed.existing == 100
    keys = [
        t.data["article_id"]
        for t in conn.client().tasks.list(project=project.id, page_size=1000, include="id,data")
    ]
    assert len(keys) == len(set(keys)) == 250


def test_a_timeout_after_the_server_imported_does_not_import_twice(ls, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings, conn = ls
    setup(conn, SCHEMA, settings=settings)
    project = next(p for p in find_projects(conn, SCHEMA, settings) if p.task == "event_type")
    projects_client = type(conn.client().projects)
    real = projects_client.import_tasks
    calls = {"n": 0}

    def import_then_time_out(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        result = real(self, *args, **kwargs)
        if calls["n"] == 1:
            raise httpx.ReadTimeout("the response was lost")
        return result

    monkeypatch.setattr(projects_client, "import_tasks", import_then_time_out)
    monkeypatch.setattr("annotation.client.time.sleep", lambda s: None)
    report = push(conn, project, make_tasks(SCHEMA, "event_type", _articles(40)), batch_size=20)
    keys = [
        t.data["article_id"]
        for t in conn.client().tasks.list(project=project.id, page_size=1000, include="id,data")
    ]
    assert len(keys) == len(set(keys)) == 40
    assert report.added == 20  # the first batch landed during the lost call; only the second counted


def test_sibling_projects_per_annotator_are_merged_at_pull(ls) -> None:  # type: ignore[no-untyped-def]
    settings, conn = ls
    results = setup(conn, SCHEMA, ["a@example.org", "b@example.org"], settings)
    titles = sorted(r.project.title for r in results if r.project.task == "stance")
    prefix = settings.ls_project_prefix
    assert titles == [f"{prefix}/stance", f"{prefix}/stance/a@example.org", f"{prefix}/stance/b@example.org"]
    siblings = [p for p in find_projects(conn, SCHEMA, settings) if p.task == "stance" and p.annotator]
    task = [
        {
            "article_id": "x1",
            "text_hash": "h",
            "title": "t",
            "text": "x",
            "target": "iran",
            "target_name": "Iran",
        }
    ]
    client = conn.client()
    for project, label in zip(siblings, ["favor", "against"], strict=True):
        push(conn, project, task)
        task_id = next(iter(existing_tasks(conn, project.id).values()))["id"]
        client.annotations.create(id=task_id, result=_choice("stance", label))
    frame, snapshots = pull(conn, SCHEMA, siblings, settings)["stance"]
    assert len(snapshots) == 2
    assert sorted((r.project.rsplit("/", 1)[1], r.labels[0]) for r in frame.itertuples()) == [
        ("a@example.org", "favor"),
        ("b@example.org", "against"),
    ]


def test_stop_then_serve_again(ls_settings: Settings) -> None:
    assert server.stop(ls_settings)
    assert not server.status(ls_settings).running
    info = server.serve(ls_settings)
    assert info.running


def test_review_queue_and_adjudication_reach_the_dataset(ls, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from annotation.gold import GoldConfig, gold_labels
    from annotation.projects import REVIEW
    from annotation.push import select_articles
    from annotation.review import send_to_review
    from corpus.ingest import ingest
    from corpus.store import Store
    from dataset.build import build, load

    settings, conn = ls
    local = settings.model_copy(update={"data_dir": tmp_path / "data"})  # corpus, annotations, datasets
    words = ["army", "talks", "border", "treaty", "summit", "missile", "drone", "court", "police"]
    words += ["vote", "rally", "strike", "aid", "trade", "oil"]
    records = [
        {
            "title": f"T{k}",
            "text": f"Russia {k}: " + " ".join(random.Random(k).choice(words) for _ in range(80)),
            "source": "wire",
            "license": "CC BY 4.0",
        }
        for k in range(6)
    ]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert ingest([tmp_path / "a.jsonl"], root=local.corpus_dir).added == 6
    store = Store(local.corpus_dir)
    tasks = make_tasks(SCHEMA, "stance", select_articles(store))
    assert len(tasks) == 6 and {t["target"] for t in tasks} == {"russia"}

    ann, bob = ensure_annotators(conn, ["rev-ann@example.org", "rev-bob@example.org"], settings)
    setup(conn, SCHEMA, [ann.email, bob.email], settings)
    siblings = {
        p.annotator: p for p in find_projects(conn, SCHEMA, settings) if p.task == "stance" and p.annotator
    }
    client = conn.client()
    for user in (ann, bob):
        push(conn, siblings[user.email], tasks)
        ids = {k: v["id"] for k, v in existing_tasks(conn, siblings[user.email].id).items()}
        for k, data in enumerate(tasks):
            label = "against" if user is bob and k >= 4 else "favor"  # they disagree on two
            client.annotations.create(
                id=ids[f"{data['article_id']}:russia"], result=_choice("stance", label), completed_by=user.id
            )
    stance_projects = [p for p in find_projects(conn, SCHEMA, settings) if p.task == "stance"]
    frame, _ = pull(conn, SCHEMA, stance_projects, local)["stance"]
    gold = gold_labels(frame, SCHEMA, "stance", GoldConfig())
    assert len(gold.items) == 6 and len(gold.review) == 2
    assert {g.n_annotators for g in gold.items} == {2}

    queued = send_to_review(conn, SCHEMA, "stance", gold.review, store, settings)
    assert queued.added == 2
    again = send_to_review(conn, SCHEMA, "stance", gold.review, store, settings)
    assert again.added == 0 and again.existing == 2

    review = next(
        p for p in find_projects(conn, SCHEMA, settings) if p.task == "stance" and p.annotator == REVIEW
    )
    decided = gold.review[0]
    task_id = existing_tasks(conn, review.id)[f"{decided.article_id}:russia"]["id"]
    client.annotations.create(id=task_id, result=_choice("stance", "against"))  # the adjudicator decides

    stance_projects = [p for p in find_projects(conn, SCHEMA, settings) if p.task == "stance"]
    frame, _ = pull(conn, SCHEMA, stance_projects, local)["stance"]
    # every vote is shown to the adjudicator as text beside an empty form: nothing pre-ticked
    assert not len(frame[(frame["kind"] == "prediction") & frame["project"].str.endswith("/review")])
    shown = [t.data for t in client.tasks.list(project=review.id, fields="all")]
    assert len(shown) == 2
    for data in shown:
        assert f"{ann.email}: Favor" in data["votes"] and f"{bob.email}: Against" in data["votes"]
        assert data["reason"] == "the annotators disagree" and data["agreement"] == 0.5
    assert "$votes" in client.projects.get(id=review.id).label_config
    gold = gold_labels(frame, SCHEMA, "stance", GoldConfig())
    adjudicated = [g for g in gold.items if g.method == "adjudicated"]
    assert [(g.article_id, g.labels) for g in adjudicated] == [(decided.article_id, ("against",))]
    assert len(gold.review) == 1 and gold.review[0].article_id != decided.article_id

    config = tmp_path / "pilot.yaml"
    config.write_text(
        "name: pilot\nconfigs: {stance: stance}\ngold: {method: ground_truth}\n"
        "splits: {fractions: {train: 0.5, test: 0.5}, seed: 1}\n"
    )
    built = build(str(config), settings=local)
    ds, _ = load(built.path / "stance")
    rows = {r["article_id"]: r for part in ds.values() for r in part}
    names = ds["train"].features["label"].names
    assert names[rows[decided.article_id]["label"]] == "against"
    assert rows[decided.article_id]["n_annotators"] == 2 and rows[decided.article_id]["agreement"] == 0.5
