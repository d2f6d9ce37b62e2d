"""What every derive step shares: the whitespace rule for texts and the JSONL layout of records.

Both are part of the derived files' checksums: changing either changes every corpus file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

_SPACES = re.compile(r"[ \t\xa0]+")
_PARAGRAPH_BREAK = re.compile(r"\n[ ]*\n[ \n]*")


def normalise_text(text: str) -> str:
    """Runs of spaces, tabs and no-break spaces to one space; paragraphs (split at blank lines)
    stripped and joined by one blank line. Single line breaks and other characters stay."""
    text = _SPACES.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    paragraphs = (p.strip(" \n") for p in _PARAGRAPH_BREAK.split(text))
    return "\n\n".join(p for p in paragraphs if p)


def jsonl_bytes(records: Iterable[dict]) -> bytes:
    """One JSON object a line, keys in the order given, non-ASCII kept as UTF-8."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
