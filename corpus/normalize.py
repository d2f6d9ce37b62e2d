"""Text normalisation and content-derived ids."""

from __future__ import annotations

import re
import unicodedata

import xxhash

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre"
)
_DAYS = (
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    "lunedì|martedì|mercoledì|giovedì|venerdì|sabato|domenica"
)
#: a line that is only a dateline: "Friday, January 4, 2019", "4 gennaio 2019", "2019-01-04"
DATELINE = re.compile(
    rf"^\s*(?:(?:{_DAYS}),?\s+)?(?:(?:{_MONTHS})\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+(?:{_MONTHS})\s+\d{{4}}"
    rf"|\d{{4}}-\d{{2}}-\d{{2}})\s*$",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_BLANKS = re.compile(r"\n{3,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalize_text(text: str) -> str:
    """NFC, no control characters, single spaces, at most one blank line, no dateline-only lines."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    lines = [line for line in lines if not DATELINE.match(line)]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def normalize_title(title: str) -> str:
    return " ".join(unicodedata.normalize("NFC", title).split())


def content_key(text: str) -> int:
    """A 64-bit hash of the normalised text: equal texts, equal keys (exact duplicates)."""
    return xxhash.xxh3_64_intdigest(text.encode("utf-8"))


def article_id(key: int) -> str:
    return f"{key:016x}"


def word_count(text: str) -> int:
    return len(text.split())
