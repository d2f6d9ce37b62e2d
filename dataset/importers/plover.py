"""PLOVER gold-standard records: CAMEO-manual sentences coded with PLOVER event types.

The file is JSON-like, not JSON: records are separated by ``},`` and carry
trailing commas. Each record is parsed on its own, so a broken one is an error
naming its line. Records with the same text become one multi-label item (the
union of their event types). Events listed in ``options.skip_events`` (the
``DOCUMENT`` record, which documents the file) are left out. The set has no
splits: the dataset config's ``splits:`` makes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from core.errors import NewslabError
from dataset.config import DatasetConfig
from dataset.importers import register
from dataset.records import LabeledItem

FILE = "PLOVER_GSR_CAMEO.txt"
TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def records(path: Path) -> Iterator[tuple[int, dict]]:
    """(first line, record) for every ``{...}`` block of the file."""
    if not path.is_file():
        raise NewslabError(f"{path}: file not found.", "Run `newslab assets fetch plover_gsr`.")
    lines = path.read_text(encoding="utf-8").splitlines()
    block: list[str] = []
    start = 0
    depth = 0
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if depth == 0 and stripped in ("[", "]", ""):
            continue
        if depth == 0:
            start = number
        block.append(line)
        depth += _depth_change(line)
        if depth == 0 and block:
            text = TRAILING_COMMA.sub(r"\1", "\n".join(block).strip().rstrip(","))
            try:
                yield start, json.loads(text)
            except json.JSONDecodeError as exc:
                raise NewslabError(
                    f"{path}: line {start + exc.lineno - 1}: malformed record ({exc.msg})."
                ) from None
            block = []
    if block:
        raise NewslabError(f"{path}: line {start}: the last record is not closed.")


def _depth_change(line: str) -> int:
    """Change in brace depth on one line, ignoring braces inside strings."""
    depth = 0
    in_string = escaped = False
    for char in line:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return depth


@register("plover_gsr")
def read(directory: Path, config: DatasetConfig) -> Iterator[LabeledItem]:
    path = directory / FILE
    skip = set(config.options.get("skip_events", []))  # type: ignore[arg-type]
    by_text: dict[str, list] = {}
    for line, record in records(path):
        event = str(record.get("event", "")).strip()
        if not event:
            raise NewslabError(f"{path}: line {line}: record {record.get('id')!r} has no event.")
        if event in skip:
            continue
        text = str(record.get("text", "")).strip()
        if not text:
            raise NewslabError(f"{path}: line {line}: record {record.get('id')!r} has no text.")
        entry = by_text.setdefault(text, [str(record.get("id")), set(), record.get("language", "en")])
        entry[1].add(event)
    for text, (record_id, events, lang) in by_text.items():
        yield LabeledItem(
            id=record_id,
            text=text,
            labels=tuple(sorted(events)),
            split="",
            article_id=record_id,
            lang=lang or config.lang,
            source=config.source,
            licence=config.licence,
            attribution="Open Event Data Alliance, PLOVER gold-standard records",
        )
