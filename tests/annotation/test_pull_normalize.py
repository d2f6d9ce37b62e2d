"""Export normalisation on hand-made exports (unit tests: no server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotation.pull import normalize, read_snapshot, to_frame, write_tables
from annotation.tables import read_annotations
from core.errors import NewslabError
from core.schema import load_schema
from core.settings import Settings

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


# -- provenance: did the annotator start from a prediction, which one, and keep its labels -------


def _task(annotations: list[dict], predictions: list[dict] | None = None, task_id: int = 8) -> dict:
    if predictions is None:
        predictions = [{"id": 9, "model_version": "tfidf-v1", "score": 0.8, "result": _choice("favor")}]
    return {
        "id": task_id,
        "data": {"article_id": f"a{task_id}", "text_hash": "h", "target": "iran"},
        "annotations": annotations,
        "predictions": predictions,
    }


def _annotation(
    label: str | None, parent: int | None = None, mark: str | None = None, **more: object
) -> dict:
    """An exported annotation of ``label``, linked to prediction ``parent``, its result marked ``mark``."""
    result = _choice(label) if label else []
    if mark:
        result = [dict(item, origin=mark) for item in result]
    return {
        "id": 1,
        "completed_by": {"email": "ann@x.org"},
        "result": result,
        "parent_prediction": parent,
        **more,
    }


def _provenance(task: dict) -> list[tuple]:
    frame = to_frame(normalize([task], SCHEMA, "stance", "newslab/stance", "export.json"))
    rows = frame[frame["kind"] != "prediction"]
    return [(r.origin, r.model_version, list(r.labels), r.cancelled) for r in rows.itertuples()]


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        # through the API: only the link to the prediction; the labels decide
        (_annotation("favor", parent=9), ("accepted", "tfidf-v1", ["favor"], False)),
        (_annotation("against", parent=9), ("changed", "tfidf-v1", ["against"], False)),
        (_annotation("neutral"), ("from_scratch", "", ["neutral"], False)),
        # the editor's marks, with the link
        (_annotation("favor", parent=9, mark="prediction"), ("accepted", "tfidf-v1", ["favor"], False)),
        (
            _annotation("against", parent=9, mark="prediction-changed"),
            ("changed", "tfidf-v1", ["against"], False),
        ),
        # the marks without the link: the task's one prediction stands in
        (_annotation("favor", mark="prediction"), ("accepted", "tfidf-v1", ["favor"], False)),
        (_annotation("against", mark="prediction-changed"), ("changed", "tfidf-v1", ["against"], False)),
        (_annotation("neutral", mark="manual"), ("from_scratch", "", ["neutral"], False)),
        # a skip keeps the pre-annotation in Label Studio's result, but commits no labels
        (
            _annotation("favor", parent=9, mark="prediction", was_cancelled=True),
            ("changed", "tfidf-v1", [], True),
        ),
    ],
)
def test_origin_and_model_version_of_an_annotation(annotation: dict, expected: tuple) -> None:
    assert _provenance(_task([annotation])) == [expected]


def test_the_parent_prediction_is_looked_up_by_id_among_several() -> None:
    predictions = [
        {"id": 9, "model_version": "tfidf-v1", "result": _choice("favor")},
        {"id": 10, "model_version": "minilm-v2", "result": _choice("against")},
    ]
    accepted = _annotation("against", parent=10)
    changed = _annotation("favor", parent=10)
    assert _provenance(_task([accepted, changed], predictions)) == [
        ("accepted", "minilm-v2", ["against"], False),
        ("changed", "minilm-v2", ["favor"], False),
    ]
    # marks but no link, and two predictions: which one is unknown; the marks decide, no version
    unmarked = _annotation("favor", mark="prediction")
    assert _provenance(_task([unmarked], predictions)) == [("accepted", "", ["favor"], False)]


def test_a_parent_prediction_missing_from_the_export_is_decided_by_the_marks() -> None:
    gone = _annotation("favor", parent=99)  # no marks: no evidence it was kept
    marked = _annotation("favor", parent=99, mark="prediction")
    assert _provenance(_task([gone, marked])) == [
        ("changed", "", ["favor"], False),
        ("accepted", "", ["favor"], False),
    ]


def test_multi_label_acceptance_compares_the_sets_of_choices() -> None:
    def events(*labels: str, origin: str | None = None) -> list[dict]:
        item = {
            "from_name": "event_type",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": list(labels)},
        }
        return [dict(item, origin=origin) if origin else item]

    task = {
        "id": 3,
        "data": {"article_id": "e1"},
        "predictions": [{"id": 4, "model_version": "m", "result": events("ASSAULT", "AGREE")}],
        "annotations": [
            {"id": 1, "completed_by": 2, "parent_prediction": 4, "result": events("AGREE", "ASSAULT")},
            {"id": 2, "completed_by": 3, "parent_prediction": 4, "result": events("ASSAULT")},
        ],
        "drafts": [{"id": 5, "user": 4, "result": events("ASSAULT", "AGREE", origin="prediction")}],
    }
    frame = to_frame(normalize([task], SCHEMA, "event_type", "newslab/event_type", "export.json"))
    assert list(zip(frame["kind"], frame["origin"], frame["model_version"], strict=True)) == [
        ("annotation", "accepted", "m"),
        ("annotation", "changed", "m"),
        ("draft", "accepted", "m"),
        ("prediction", "", "m"),
    ]


def test_the_committed_jsonl_has_provenance_and_no_labels_for_a_skip(settings: Settings) -> None:
    task = _task(
        [
            _annotation("favor", parent=9, id=1),
            _annotation("neutral", id=2),
            _annotation("favor", parent=9, mark="prediction", was_cancelled=True, id=3),
        ]
    )
    frame = to_frame(normalize([task], SCHEMA, "stance", "newslab/stance", "export.json"))
    parquet, jsonl = write_tables(frame, "stance", settings)
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    got = [(r["labels"], r["cancelled"], r["origin"], r["model_version"]) for r in lines]
    assert sorted(got) == [
        ([], True, "changed", "tfidf-v1"),
        (["favor"], False, "accepted", "tfidf-v1"),
        (["neutral"], False, "from_scratch", ""),
    ]
    for path in (parquet, jsonl):  # the table, and the committed form alone, read back the same
        if path == jsonl:
            parquet.unlink()
        back = read_annotations(parquet, SCHEMA)
        rows = back[back["kind"] == "annotation"]
        assert sorted(zip(rows["origin"], rows["model_version"], strict=True)) == [
            ("accepted", "tfidf-v1"),
            ("changed", "tfidf-v1"),
            ("from_scratch", ""),
        ]


def test_a_table_pulled_before_provenance_reads_as_made_from_scratch(tmp_path: Path) -> None:
    frame = to_frame(normalize(EXPORT, SCHEMA, "stance", "newslab/stance", "export.json"))
    frame.drop(columns=["origin", "model_version"]).to_parquet(tmp_path / "stance.parquet")
    back = read_annotations(tmp_path / "stance.parquet", SCHEMA)
    assert list(back["origin"]) == ["from_scratch", "from_scratch", "from_scratch", ""]
    assert set(back["model_version"]) == {""}
    (tmp_path / "stance.parquet").unlink()
    old = {"article_id": "a1", "target": "iran", "annotator": "x", "labels": ["favor"], "cancelled": False}
    (tmp_path / "stance.jsonl").write_text(json.dumps(old) + "\n")
    back = read_annotations(tmp_path / "stance.parquet", SCHEMA)
    assert list(back["origin"]) == ["from_scratch"] and list(back["model_version"]) == [""]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"origin": "guessed"}, "origin is 'guessed', not one of accepted, changed, from_scratch"),
        ({"model_version": 3}, "model_version is 3, not a string"),
        (
            {"origin": "from_scratch", "model_version": "m1"},
            "origin is 'from_scratch' but model_version is 'm1'",
        ),
    ],
)
def test_a_bad_provenance_value_is_named_with_file_and_row(
    tmp_path: Path, change: dict, expected: str
) -> None:
    good = {"target": "iran", "labels": ["favor"], "origin": "accepted", "model_version": "m1"}
    rows = [
        {**good, "article_id": "a1", "annotator": "x"},
        {**good, "article_id": "a2", "annotator": "y", **change},
    ]
    committed = tmp_path / "stance.jsonl"
    committed.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(NewslabError) as err:
        read_annotations(tmp_path / "stance.parquet", SCHEMA)
    assert err.value.message == f"{committed}: line 2: item a2:iran, annotation by y: {expected}."


def test_an_unknown_origin_in_the_pulled_table_names_the_row_and_annotation(tmp_path: Path) -> None:
    frame = to_frame(normalize(EXPORT, SCHEMA, "stance", "newslab/stance", "export.json"))
    frame.loc[1, "origin"] = "guessed"
    frame.to_parquet(tmp_path / "stance.parquet")
    with pytest.raises(NewslabError) as err:
        read_annotations(tmp_path / "stance.parquet", SCHEMA)
    assert err.value.message.startswith(
        f"{tmp_path / 'stance.parquet'}: row 2: task 7 (a1:russia), annotation 2 by bob@x.org: "
        "origin is 'guessed', not one of accepted, changed, from_scratch"
    )


def test_the_comment_box_is_a_column_and_no_label() -> None:
    """The layout's TextArea result is the row's ``comment``; label extraction ignores it."""
    export = json.loads(json.dumps(EXPORT))
    note = {
        "from_name": "comment",
        "to_name": "text",
        "type": "textarea",
        "value": {"text": ["hedged", "quote"]},
    }
    export[0]["annotations"][0]["result"] = [*_choice("favor"), note]
    export[0]["drafts"][0]["result"] = [note]
    frame = to_frame(normalize(export, SCHEMA, "stance", "newslab/stance", "export.json"))
    assert frame["comment"].tolist() == ["hedged\nquote", "", "hedged\nquote", ""]
    assert frame["labels"].tolist() == [["favor"], [], [], ["neutral"]]
