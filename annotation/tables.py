"""Reading the annotation tables that `newslab annotate pull` writes (or their committed form).

Every read checks the labels against the schema: a label the schema does not define (a hand
edit, a schema changed since the pull) is an error naming the file, row, task, annotation and
label, never an item whose gold silently becomes ``[]`` with agreement 0.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.errors import NewslabError
from core.jsonl import read_jsonl
from core.schema import Schema, load_schema
from core.settings import get_settings


def read_annotations(path: Path, schema: Schema | None = None, task: str | None = None) -> pd.DataFrame:
    """The pulled table (``<task>.parquet``) or, where there is none, its committed form
    (``<task>.jsonl``: submitted annotations only, no text); labels checked against the schema's
    ``task`` (default: the file's stem)."""
    schema = schema or load_schema(get_settings().schema_path)
    task = task or path.stem
    committed = path.with_suffix(".jsonl")
    if path.is_file():
        frame = pd.read_parquet(path)
        frame["labels"] = [_as_list(v) for v in frame["labels"]]
        check_labels(frame, schema, task, path, [f"row {i + 1}" for i in range(len(frame))])
        return frame
    if not committed.is_file():
        raise NewslabError(
            f"{path}: no pulled annotations for this task.", "Run `newslab annotate pull` first."
        )
    rows, where = [], []
    for line_no, row in read_jsonl(committed, "annotation record"):
        missing = {"article_id", "annotator", "labels"} - set(row)
        if missing or not isinstance(row["labels"], list):
            what = f"missing {', '.join(sorted(missing))}" if missing else "labels is not a list"
            raise NewslabError(f"{committed}: line {line_no}: not an annotation record ({what}).")
        rows.append(row)
        where.append(f"line {line_no}")
    frame = pd.DataFrame(rows)
    defaults = {
        "kind": "annotation",
        "target": "",
        "text_hash": "",
        "cancelled": False,
        "ground_truth": False,
        "updated_at": "",
        "project": "",
    }
    for column, value in defaults.items():
        if column not in frame:
            frame[column] = value
    frame["target"] = frame["target"].fillna("")
    check_labels(frame, schema, task, committed, where)
    return frame


def _as_list(value: object) -> object:
    """Parquet gives list cells as arrays; anything else (a string, None) is left for the check to name."""
    return list(value) if hasattr(value, "tolist") and not isinstance(value, str) else value


def check_labels(frame: pd.DataFrame, schema: Schema, task: str, path: Path, where: list[str]) -> None:
    """Refuse a row whose labels are not a list of the schema's codes for ``task``, naming it."""
    if task not in schema.tasks or "labels" not in frame or frame.empty:
        return
    codes = schema.task(task).codes
    known = set(codes)
    for i, labels in enumerate(frame["labels"]):
        if isinstance(labels, list) and all(isinstance(x, str) and x in known for x in labels):
            continue
        row = frame.iloc[i]
        unit = f"{row['article_id']}:{row['target']}" if row.get("target") else str(row["article_id"])
        task_ref = f"task {row['task_id']} ({unit})" if "task_id" in frame else f"item {unit}"
        record = row.get("record_id")
        annotation = (
            f"{row.get('kind', 'annotation')} {record} " if record else f"{row.get('kind', 'annotation')} "
        )
        if not isinstance(labels, list):
            problem = f"labels is {labels!r}, not a list"
        else:
            problem = f"unknown {task} label {next(x for x in labels if x not in known)!r}"
        raise NewslabError(
            f"{path}: {where[i]}: {task_ref}, {annotation}by {row['annotator']}: {problem}; "
            f"the schema's {task} labels are {', '.join(codes)}.",
            "Pull again (`newslab annotate pull`) if the file was edited, or add the label to the schema.",
        )
