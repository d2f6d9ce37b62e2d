"""Issue 16, annotation side: labels checked on read, snapshots against their sha256, `annotate verify`,
malformed user files named by line and field."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from annotation.pull import read_snapshot
from annotation.push import find_duplicates, load_predictions, read_ids
from annotation.submit import read_labels
from annotation.tables import read_annotations
from annotation.verify import verify_annotations
from core.errors import NewslabError
from core.schema import load_schema
from core.settings import Settings
from tests.conftest import run_cli

SCHEMA = load_schema()


def _row(article: str, annotator: str, labels: object) -> dict:
    return {"project": "p", "task": "stance", "article_id": article, "text_hash": "", "target": "russia",
            "annotator": annotator, "labels": labels, "cancelled": False, "ground_truth": False,
            "lead_time": None, "created_at": "", "updated_at": ""}  # fmt: skip


def test_an_unknown_label_in_a_committed_table_names_file_line_annotator_and_label(tmp_path: Path) -> None:
    rows = [_row("a1", "ann1", ["favor"]), _row("a1", "ann2", ["FAVOUR"]), _row("a2", "ann1", ["against"])]
    path = tmp_path / "stance.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(NewslabError) as err:
        read_annotations(tmp_path / "stance.parquet", SCHEMA)
    message = err.value.message
    assert f"{path}: line 2: item a1:russia, annotation by ann2: unknown stance label 'FAVOUR'" in message
    assert "favor, against, neutral, unrelated" in message


def test_an_unknown_label_in_a_pulled_parquet_table_names_the_task_and_annotation(tmp_path: Path) -> None:
    extra = {"task_id": 7, "kind": "annotation"}
    rows = [{**_row("a1", "ann1", ["favor"]), **extra, "record_id": 70},
            {**_row("a1", "ann2", ["sarcastic"]), **extra, "record_id": 71}]  # fmt: skip
    pd.DataFrame(rows).to_parquet(tmp_path / "stance.parquet")
    with pytest.raises(
        NewslabError, match=r"row 2: task 7 \(a1:russia\), annotation 71 by ann2: .*'sarcastic'"
    ):
        read_annotations(tmp_path / "stance.parquet", SCHEMA)


def test_a_snapshot_edited_after_the_pull_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "newslab__stance-20260101T000000Z.json"
    path.write_text("[]")
    Path(str(path) + ".sha256").write_text(f"{hashlib.sha256(b'[]').hexdigest()}  {path.name}\n")
    assert read_snapshot(path) == []
    path.write_text("[ ]")
    with pytest.raises(NewslabError, match="edited after it was pulled") as err:
        read_snapshot(path)
    assert "pull again" in (err.value.hint or "").lower()


def _task(task_id: int, article: str, label: str, text_hash: str = "") -> dict:
    result = [
        {"from_name": "event_type", "to_name": "text", "type": "choices", "value": {"choices": [label]}}
    ]
    data = {"article_id": article, "text_hash": text_hash or article, "text": "x"}
    annotation = {"id": task_id * 10, "completed_by": {"email": "a@x"}, "result": result}
    return {"id": task_id, "data": data, "annotations": [annotation]}


def _snapshot(folder: Path, name: str, tasks: list[dict], edit: bool = False) -> Path:
    raw = json.dumps(tasks).encode()
    path = folder / name
    path.write_bytes(raw)
    Path(str(path) + ".sha256").write_text(f"{hashlib.sha256(raw).hexdigest()}  {name}\n")
    if edit:
        path.write_bytes(raw.replace(b'"AID"', b'"AGREE"'))
    return path


def test_annotate_verify_lists_edited_snapshots_unknown_labels_and_duplicates(settings: Settings) -> None:
    snaps = settings.annotations_dir / "snapshots"
    snaps.mkdir(parents=True)
    _snapshot(snaps, "good.json", [_task(1, "a1", "AID"), _task(2, "a2", "AGREE")])
    _snapshot(snaps, "edited.json", [_task(1, "a1", "AID")], edit=True)
    _snapshot(snaps, "badlabel.json", [_task(1, "a1", "BOMB")])
    _snapshot(
        snaps, "dupes.json", [_task(1, "a1", "AID"), _task(2, "a1", "AID"), _task(3, "a3", "AID", "a1")]
    )
    checks = {(c.file.name, c.check): c for c in verify_annotations(settings.annotations_dir, SCHEMA)}
    assert all(c.ok for (f, _), c in checks.items() if f == "good.json")
    assert (
        not checks["edited.json", "checksum"].ok
        and "edited after it was pulled" in checks["edited.json", "checksum"].detail
    )
    assert (
        "task 1, annotation 10 by a@x: unknown event_type label 'BOMB'"
        in checks["badlabel.json", "labels"].detail
    )
    assert "a1: tasks 1, 2 (same key)" in checks["dupes.json", "duplicates"].detail

    out = run_cli("annotate", "verify", env={"NEWSLAB_DATA_DIR": str(settings.data_dir)})
    assert out.returncode == 1, out.stderr
    assert "edited.json" in out.stdout and "BOMB" in out.stdout and "same key" in out.stdout
    assert "3 problem(s) in 3 file(s)" in out.stderr + out.stdout


def test_find_duplicates_same_key_and_same_text() -> None:
    tasks = [(1, {"article_id": "a", "text_hash": "h"}), (2, {"article_id": "a", "text_hash": "h"}),
             (3, {"article_id": "b", "text_hash": "h2"}), (4, {"article_id": "c", "text_hash": "h2"}),
             (5, {"article_id": "d", "text_hash": "h2", "target": "iran"})]  # fmt: skip
    assert [str(d) for d in find_duplicates(tasks)] == [
        "a: tasks 1, 2 (same key)",
        "b = c: tasks 3, 4 (same text)",
    ]


def test_labels_given_as_a_string_are_an_error_naming_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text('{"article_id": "a1", "labels": ["AID"]}\n{"article_id": "a2", "labels": "AGREE"}\n')
    with pytest.raises(NewslabError, match=rf'{path}: line 2: field labels is "AGREE", not a list') as err:
        read_labels(path, SCHEMA, "event_type")
    assert '"labels": ["AGREE"]' in (err.value.hint or "")
    with pytest.raises(NewslabError, match='line 2: field labels is "AGREE"'):
        load_predictions(path, SCHEMA, "event_type")


def test_latin1_bytes_in_submitted_files_are_named_by_line(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_bytes(b'{"article_id": "a1", "labels": ["AID"]}\n{"article_id": "caf\xe9", "labels": []}\n')
    with pytest.raises(NewslabError, match=rf"{path}: line 2: not UTF-8"):
        read_labels(path, SCHEMA, "event_type")
    ids = tmp_path / "ids.txt"
    ids.write_bytes(b"a1\ncaf\xe9\n")
    with pytest.raises(NewslabError, match=rf"{ids}: line 2: not UTF-8"):
        read_ids(ids)
    ids.write_bytes("\ufeffa1\n\n b2 \n".encode())
    assert read_ids(ids) == ["a1", "b2"]
