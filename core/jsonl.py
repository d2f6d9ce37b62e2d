"""Reading JSON Lines files: every record with its line number; a broken line is an error naming it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from core.errors import NewslabError


def read_jsonl(path: Path, what: str = "record") -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line; a line that is not a JSON object is an error."""
    if not Path(path).is_file():
        raise NewslabError(f"{path}: no such file.")
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise NewslabError(f"{path}: line {line_no}: not a {what} ({exc}).") from None
            if not isinstance(row, dict):
                raise NewslabError(f"{path}: line {line_no}: not a {what} (a JSON {type(row).__name__}).")
            yield line_no, row
