"""Reading JSON Lines files: every record with its line number; a broken line is an error naming it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from core.errors import NewslabError


def read_jsonl(path: Path, what: str = "record") -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line (UTF-8, a leading BOM allowed); a line that is
    not UTF-8 or not a JSON object is an error naming the file and line."""
    if not Path(path).is_file():
        raise NewslabError(f"{path}: no such file.")
    with open(path, "rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            where = f"{path}: line {line_no}"
            try:
                line = raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise NewslabError(f"{where}: not UTF-8 ({exc.reason}).", "Save the file as UTF-8.") from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise NewslabError(
                    f"{where}: not a {what} (malformed JSON: {exc.msg}, column {exc.colno})."
                ) from None
            if not isinstance(row, dict):
                raise NewslabError(f"{where}: not a {what} (a JSON {type(row).__name__}, not an object).")
            yield line_no, row
