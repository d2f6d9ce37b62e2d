"""Export normalisation on hand-made exports (unit tests: no server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotation.pull import normalize, read_snapshot, to_frame
from core.errors import NewslabError
from core.schema import load_schema

SCHEMA = load_schema()


def _choice(label: str, name: str = "stance") -> list[dict]:
    return [{"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


EXPORT = [
    {
        "id": 7,
        "data": {"article_id": "a1", "text_hash": "h1", "target": "russia", "text": "..."},
        "annotations": [
            {
                "id": 1,
                "completed_by": {"id": 2, "email": "ann@x.org"},
                "result": _choice("favor"),
                "was_cancelled": False,
                "ground_truth": False,
                "lead_time": 12.5,
                "created_at": "2026-01-01T10:00:00Z",
                "updated_at": "2026-01-01T10:05:00Z",
            },
            {
                "id": 2,
                "completed_by": {"id": 3, "email": "bob@x.org"},
                "result": [],
                "was_cancelled": True,
                "ground_truth": False,
                "lead_time": 3.0,
            },
        ],
        "drafts": [{"id": 5, "user": "bob@x.org", "result": _choice("against"), "lead_time": 1.0}],
        "predictions": [{"id": 9, "model_version": "tfidf-v1", "score": 0.8, "result": _choice("neutral")}],
    }
]


def test_every_kind_becomes_a_row() -> None:
    rows = normalize(EXPORT, SCHEMA, "stance", "newslab/stance", "export.json")
    frame = to_frame(rows)
    assert list(frame["kind"]) == ["annotation", "annotation", "draft", "prediction"]
    assert list(frame["annotator"]) == ["ann@x.org", "bob@x.org", "bob@x.org", "tfidf-v1"]
    assert frame["labels"].tolist() == [["favor"], [], ["against"], ["neutral"]]
    assert frame["cancelled"].tolist() == [False, True, False, False]
    assert set(frame["article_id"]) == {"a1"} and set(frame["target"]) == {"russia"}
    assert frame.loc[0, "lead_time"] == 12.5 and frame.loc[3, "score"] == 0.8


def test_unknown_label_names_the_task_and_annotation() -> None:
    bad = json.loads(json.dumps(EXPORT))
    bad[0]["annotations"][0]["result"] = _choice("sarcastic")
    with pytest.raises(NewslabError) as err:
        normalize(bad, SCHEMA, "stance", "p", "export.json")
    assert "task id 7" in err.value.message and "annotation 1" in err.value.message
    assert "'sarcastic'" in err.value.message


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda e: e[0].pop("data"), "task #0: malformed export item (missing 'data')"),
        (lambda e: e[0]["data"].pop("article_id"), "missing 'article_id'"),
        (lambda e: e[0].update(predictions=[9]), "prediction is int, not an object"),
    ],
)
def test_malformed_export(mutate, expected: str) -> None:  # type: ignore[no-untyped-def]
    bad = json.loads(json.dumps(EXPORT))
    mutate(bad)
    with pytest.raises(NewslabError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        normalize(bad, SCHEMA, "stance", "p", "export.json")


def test_snapshot_file_checks(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"not": "a list"}')
    with pytest.raises(NewslabError, match="is a list of tasks"):
        read_snapshot(path)
    path.write_text("[{")
    with pytest.raises(NewslabError, match="line 1: not valid JSON"):
        read_snapshot(path)
    path.write_text("[]")
    Path(str(path) + ".sha256").write_text("0" * 64 + "  s.json\n")
    with pytest.raises(NewslabError, match="checksum mismatch"):
        read_snapshot(path)
