"""Reading the annotation tables that `newslab annotate pull` writes (or their committed form)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.errors import NewslabError
from core.jsonl import read_jsonl


def read_annotations(path: Path) -> pd.DataFrame:
    """The pulled table (``<task>.parquet``) or, where there is none, its committed form
    (``<task>.jsonl``: submitted annotations only, no text)."""
    committed = path.with_suffix(".jsonl")
    if path.is_file():
        return pd.read_parquet(path)
    if not committed.is_file():
        raise NewslabError(
            f"{path}: no pulled annotations for this task.", "Run `newslab annotate pull` first."
        )
    rows = []
    for line_no, row in read_jsonl(committed, "annotation record"):
        missing = {"article_id", "annotator", "labels"} - set(row)
        if missing or not isinstance(row["labels"], list):
            what = f"missing {', '.join(sorted(missing))}" if missing else "labels is not a list"
            raise NewslabError(f"{committed}: line {line_no}: not an annotation record ({what}).")
        rows.append(row)
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
    return frame
