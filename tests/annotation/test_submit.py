"""Labels made away from the screen, submitted as an annotator's annotations: file checks, and a real
Label Studio round trip (submit, submit again, pull)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from annotation.projects import find_projects, instructions, setup
from annotation.pull import pull
from annotation.push import ArticleRow, make_tasks, push
from annotation.submit import LabelRecord, read_labels, submit
from annotation.users import annotator_connection, ensure_annotators
from core.errors import NewslabError
from core.schema import load_schema

SCHEMA = load_schema()


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_read_labels_checks_every_line(tmp_path: Path) -> None:
    good = _write(
        tmp_path / "ok.jsonl",
        [{"article_id": "a1", "labels": ["ASSAULT", "PROTEST"]}, {"article_id": "a2", "labels": []}],
    )
    assert read_labels(good, SCHEMA, "event_type") == [
        LabelRecord("a1", "", ("ASSAULT", "PROTEST")),
        LabelRecord("a2", "", ()),
    ]
    cases = [
        (["{not json"], "event_type", r"bad\.jsonl: line 1: not a label record"),
        ([{"article_id": "a1"}], "event_type", r"line 1: not a label record \(KeyError"),
        ([{"article_id": "a1", "labels": ["AID"]}, {"article_id": "a2", "labels": ["BOMB"]}], "event_type",
         r"line 2.*BOMB"),
        ([{"article_id": "a1", "target": "russia", "labels": ["favor", "against"]}], "stance",
         "takes exactly one label, got 2"),
        ([{"article_id": "a1", "labels": ["favor"]}], "stance", "line 1: stance needs a target"),
        ([{"article_id": "a1", "labels": []}, "", {"article_id": "a1", "labels": ["AID"]}], "event_type",
         "line 3: a1 already labelled on line 1"),
    ]  # fmt: skip
    for rows, task, message in cases:
        with pytest.raises(NewslabError, match=message):
            read_labels(_write(tmp_path / "bad.jsonl", rows), SCHEMA, task)


def test_guidelines_render_as_html_for_label_studio() -> None:
    page = instructions(SCHEMA, "stance")
    assert page is not None and "<h1>Stance toward a target</h1>" in page and "<table>" in page


@pytest.mark.server
@pytest.mark.slow
def test_submit_as_an_annotator_then_again_then_pull(ls, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings, conn = ls
    email = f"annotator-{uuid.uuid4().hex[:6]}@example.org"
    ensure_annotators(conn, [email], settings)
    setup(conn, SCHEMA, [email], settings=settings)
    project = next(p for p in find_projects(conn, SCHEMA, settings) if p.task == "stance" and p.annotator)
    details = conn.client().projects.get(id=project.id)
    assert "Stance toward a target" in (details.expert_instruction or "")  # annotators see the guidelines
    articles = [
        ArticleRow("a1", "t", "Russia and Iran signed a deal.", "en"),
        ArticleRow("a2", "t", "Protests in Moscow.", "en"),
    ]
    push(conn, project, make_tasks(SCHEMA, "stance", articles))
    labels = _write(
        tmp_path / "stance.jsonl",
        [
            {"article_id": "a1", "target": "russia", "labels": ["neutral"]},
            {"article_id": "a1", "target": "iran", "labels": ["favor"]},
            {"article_id": "a2", "target": "russia", "labels": ["against"]},
        ],
    )
    records = read_labels(labels, SCHEMA, "stance")
    as_annotator = annotator_connection(conn, email, settings)
    first = submit(as_annotator, project, "stance", records)
    assert (first.added, first.existing, first.missing) == (3, 0, [])
    again = submit(as_annotator, project, "stance", [*records, LabelRecord("a9", "china", ("favor",))])
    assert (again.added, again.existing, again.missing) == (0, 3, ["a9:china"])

    frame, _ = pull(conn, SCHEMA, [project], settings)["stance"]
    got = sorted((r.article_id, r.target, r.annotator, tuple(r.labels)) for r in frame.itertuples())
    assert got == [
        ("a1", "iran", email, ("favor",)),
        ("a1", "russia", email, ("neutral",)),
        ("a2", "russia", email, ("against",)),
    ]
    committed = [
        json.loads(line) for line in (settings.annotations_dir / "stance.jsonl").read_text().splitlines()
    ]
    assert {r["project"] for r in committed} == {project.title} and all("text" not in r for r in committed)
    # the admin's token would make the admin the author: the annotator's own token is required
    who = httpx.get(f"{conn.url}/api/current-user/whoami", headers=as_annotator.headers, timeout=10).json()
    assert who["email"] == email
    with pytest.raises(NewslabError, match="unknown to newslab"):
        annotator_connection(conn, "nobody@example.org", settings)
