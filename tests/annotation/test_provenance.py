"""Annotation provenance against a real Label Studio: what an annotator did with a model's prediction.

Label Studio 1.23 keeps ``parent_prediction`` exactly as the client sends it and leaves
``last_action`` empty for annotations made through the API; result items keep the ``origin``
marks the editor writes. The annotation's ``prediction`` field is filled for every annotation of a
pre-annotated task, from scratch or not, so it says nothing about where an annotation started.
"""

from __future__ import annotations

import json

import pytest

from annotation.agreement import agreement
from annotation.gold import GoldConfig, gold_labels
from annotation.prelabel import prediction
from annotation.projects import find_projects, setup
from annotation.pull import pull, read_snapshot
from annotation.push import existing_tasks, push
from annotation.tables import read_annotations
from annotation.users import ensure_annotators
from core.schema import load_schema

pytestmark = [pytest.mark.server, pytest.mark.slow]
SCHEMA = load_schema()


def _choice(label: str, origin: str | None = None) -> list[dict]:
    item = {"from_name": "stance", "to_name": "text", "type": "choices", "value": {"choices": [label]}}
    return [{**item, "origin": origin} if origin else item]


def test_accepted_changed_from_scratch_and_skipped_through_the_api(ls, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings, conn = ls
    setup(conn, SCHEMA, settings=settings)
    project = next(p for p in find_projects(conn, SCHEMA, settings) if p.task == "stance")
    data = [
        {
            "article_id": f"p{k}",
            "text_hash": "h",
            "title": "t",
            "text": "x",
            "target": "iran",
            "target_name": "Iran",
        }
        for k in range(4)
    ]
    model = {f"p{k}:iran": prediction("stance", ["favor"], 0.7, "tfidf-v1") for k in range(4)}
    push(conn, project, data, model)
    ids = {key: task["id"] for key, task in existing_tasks(conn, project.id).items()}
    client = conn.client()
    parent = {key: next(iter(client.predictions.list(task=task_id))).id for key, task_id in ids.items()}
    ann, bob = ensure_annotators(conn, ["prov-ann@example.org", "prov-bob@example.org"], settings)

    def annotate(key: str, who: int, result: list[dict], from_prediction: bool, **more: object) -> None:
        link = {"parent_prediction": parent[key]} if from_prediction else {}
        client.annotations.create(id=ids[key], result=result, completed_by=who, **link, **more)

    annotate("p0:iran", ann.id, _choice("favor"), True)  # accepted
    annotate("p1:iran", ann.id, _choice("against"), True)  # changed
    annotate("p2:iran", ann.id, _choice("neutral"), False)  # from scratch, on a pre-annotated task
    annotate(
        "p3:iran", ann.id, _choice("favor", "prediction"), True, was_cancelled=True
    )  # skipped, as the editor
    annotate("p0:iran", bob.id, _choice("favor", "prediction"), True)  # accepted, as the editor marks it
    annotate("p1:iran", bob.id, _choice("against"), False)
    annotate("p2:iran", bob.id, _choice("against", "prediction-changed"), True)

    frame, [snapshot] = pull(conn, SCHEMA, [project], settings)["stance"]

    exported = [a for t in read_snapshot(snapshot.path) for a in t["annotations"]]
    assert {a["last_action"] for a in exported} == {None}  # not recorded for API-made annotations
    assert all(a["prediction"] for a in exported)  # "viewed at the time": there even from scratch
    rows = frame[frame["kind"] == "annotation"]
    got = {
        (r.article_id, r.annotator.split("@")[0], r.origin, r.model_version, tuple(r.labels), r.cancelled)
        for r in rows.itertuples()
    }
    assert got == {
        ("p0", "prov-ann", "accepted", "tfidf-v1", ("favor",), False),
        ("p1", "prov-ann", "changed", "tfidf-v1", ("against",), False),
        ("p2", "prov-ann", "from_scratch", "", ("neutral",), False),
        ("p3", "prov-ann", "changed", "tfidf-v1", (), True),  # a skip commits no labels
        ("p0", "prov-bob", "accepted", "tfidf-v1", ("favor",), False),
        ("p1", "prov-bob", "from_scratch", "", ("against",), False),
        ("p2", "prov-bob", "changed", "tfidf-v1", ("against",), False),
    }

    committed = settings.annotations_dir / "stance.jsonl"
    lines = [json.loads(line) for line in committed.read_text().splitlines()]
    skipped = next(line for line in lines if line["article_id"] == "p3")
    assert skipped["labels"] == [] and skipped["cancelled"] is True and skipped["origin"] == "changed"
    assert {(line["article_id"], line["origin"]) for line in lines if line["annotator"] == ann.email} == {
        ("p0", "accepted"),
        ("p1", "changed"),
        ("p2", "from_scratch"),
        ("p3", "changed"),
    }
    alone = tmp_path / "stance.jsonl"  # the committed form, read without the pulled table
    alone.write_bytes(committed.read_bytes())
    back = read_annotations(tmp_path / "stance.parquet", SCHEMA)
    assert sorted(back["origin"]) == sorted(rows["origin"])

    # the option is off by default; on, p0 (accepted by both) leaves gold labels and agreement
    kept = gold_labels(frame, SCHEMA, "stance", GoldConfig(method="majority"))
    assert {g.article_id for g in kept.items} == {"p0", "p1", "p2"}
    excluded = gold_labels(
        frame, SCHEMA, "stance", GoldConfig(method="majority", accepted_predictions="exclude")
    )
    assert {g.article_id for g in excluded.items} == {"p1", "p2"} and excluded.dropped == ["p0|iran"]
    assert agreement(frame, SCHEMA, "stance", n_boot=0).n_units == 3
    assert agreement(frame, SCHEMA, "stance", n_boot=0, accepted_predictions="exclude").n_units == 2
