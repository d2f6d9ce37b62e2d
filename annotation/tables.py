"""Reading the annotation tables that `newslab annotate pull` writes (or their committed form).

Every read checks the labels against the schema: a label the schema does not define (a hand
edit, a schema changed since the pull) is an error naming the file, row, task, annotation and
label, never an item whose gold silently becomes ``[]`` with agreement 0. The provenance
columns (``origin``, ``model_version``) are checked the same way, since gold labels and
agreement may leave accepted predictions out; a table pulled before they existed reads as
made from scratch.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from annotation.pull import ORIGINS
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
        where = [f"row {i + 1}" for i in range(len(frame))]
        check_labels(frame, schema, task, path, where)
        check_provenance(with_provenance(frame), path, where)
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
        "comment": "",  # committed before the comment box existed
    }
    for column, value in defaults.items():
        if column not in frame:
            frame[column] = value
    frame["target"] = frame["target"].fillna("")
    check_labels(frame, schema, task, committed, where)
    check_provenance(with_provenance(frame), committed, where)
    return frame


def _as_list(value: object) -> object:
    """Parquet gives list cells as arrays; anything else (a string, None) is left for the check to name."""
    return list(value) if hasattr(value, "tolist") and not isinstance(value, str) else value


def _row_ref(frame: pd.DataFrame, i: int) -> str:
    """``task 7 (a1:iran), annotation 3 by ann@x.org``: which row a problem is in, as a person finds it."""
    row = frame.iloc[i]
    unit = f"{row['article_id']}:{row['target']}" if row.get("target") else str(row["article_id"])
    task_ref = f"task {row['task_id']} ({unit})" if "task_id" in frame else f"item {unit}"
    record = row.get("record_id")
    annotation = f"{row.get('kind', 'annotation')} {record}" if record else row.get("kind", "annotation")
    return f"{task_ref}, {annotation} by {row['annotator']}"


def check_labels(frame: pd.DataFrame, schema: Schema, task: str, path: Path, where: list[str]) -> None:
    """Refuse a row whose labels are not a list of the schema's codes for ``task``, naming it."""
    if task not in schema.tasks or "labels" not in frame or frame.empty:
        return
    codes = schema.task(task).codes
    known = set(codes)
    for i, labels in enumerate(frame["labels"]):
        if isinstance(labels, list) and all(isinstance(x, str) and x in known for x in labels):
            continue
        if not isinstance(labels, list):
            problem = f"labels is {labels!r}, not a list"
        else:
            problem = f"unknown {task} label {next(x for x in labels if x not in known)!r}"
        raise NewslabError(
            f"{path}: {where[i]}: {_row_ref(frame, i)}: {problem}; "
            f"the schema's {task} labels are {', '.join(codes)}.",
            "Pull again (`newslab annotate pull`) if the file was edited, or add the label to the schema.",
        )


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)  # None or NaN


def with_provenance(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill ``origin`` and ``model_version`` where a table (or a row) predates them, in place:
    annotations and drafts were made from scratch, predictions have no origin."""
    kinds = frame["kind"] if "kind" in frame else pd.Series("annotation", index=frame.index)
    default = ["" if kind == "prediction" else "from_scratch" for kind in kinds]
    origins = frame["origin"] if "origin" in frame else pd.Series(None, index=frame.index, dtype=object)
    frame["origin"] = [d if _missing(v) else v for v, d in zip(origins, default, strict=True)]
    versions = frame["model_version"] if "model_version" in frame else [None] * len(frame)
    frame["model_version"] = ["" if _missing(v) else v for v in versions]
    return frame


def check_provenance(frame: pd.DataFrame, path: Path, where: list[str]) -> None:
    """Refuse a row whose ``origin`` is not one Label Studio's provenance maps to, or whose
    ``model_version`` is not a string (or names a model for an annotation made from scratch)."""
    if frame.empty:
        return
    kinds = frame["kind"] if "kind" in frame else ["annotation"] * len(frame)
    for i, (kind, origin, version) in enumerate(
        zip(kinds, frame["origin"], frame["model_version"], strict=True)
    ):
        if kind == "prediction" and origin != "":
            problem = f"origin is {origin!r}; a prediction has none"
        elif kind != "prediction" and origin not in ORIGINS:
            problem = f"origin is {origin!r}, not one of {', '.join(ORIGINS)}"
        elif not isinstance(version, str):
            problem = f"model_version is {version!r}, not a string"
        elif origin == "from_scratch" and version:
            problem = f"origin is 'from_scratch' but model_version is {version!r}"
        else:
            continue
        raise NewslabError(
            f"{path}: {where[i]}: {_row_ref(frame, i)}: {problem}.",
            "Pull again (`newslab annotate pull`) if the file was edited.",
        )
