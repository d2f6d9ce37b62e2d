"""Task making and predictions (unit tests: no server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotation.push import ArticleRow, load_predictions, make_tasks, task_key
from core.errors import NewslabError
from core.schema import load_schema

SCHEMA = load_schema()
SEED = ArticleRow("a1", "La Russia e l'Iran", "La Russia compra missili dall'Iran. Kiev protesta.", "it")


def test_event_tasks_one_per_article() -> None:
    [task] = make_tasks(SCHEMA, "event_type", [SEED])
    assert task["article_id"] == "a1" and task_key(task) == "a1" and len(task["text_hash"]) == 16
    assert "target" not in task


def test_stance_tasks_one_per_mentioned_target() -> None:
    tasks = make_tasks(SCHEMA, "stance", [SEED])
    assert {t["target"] for t in tasks} == {"russia", "iran", "ukraine"}
    assert {task_key(t) for t in tasks} == {"a1:russia", "a1:iran", "a1:ukraine"}
    assert all(t["target_name"] for t in tasks)


def test_predictions_are_validated_against_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        json.dumps(
            {"article_id": "a1", "target": "iran", "labels": ["against"], "score": 0.7, "model_version": "m1"}
        )
        + "\n"
    )
    preds = load_predictions(path, SCHEMA, "stance")
    assert preds["a1:iran"]["result"][0]["value"]["choices"] == ["against"]
    path.write_text(json.dumps({"article_id": "a1", "labels": ["maybe"]}) + "\n")
    with pytest.raises(NewslabError, match=r"p.jsonl: line 1: unknown stance label"):
        load_predictions(path, SCHEMA, "stance")
    path.write_text("{broken\n")
    with pytest.raises(NewslabError, match="line 1: not a prediction record"):
        load_predictions(path, SCHEMA, "stance")
