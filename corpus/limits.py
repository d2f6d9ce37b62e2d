"""The per-article length limit, checked before any article reaches spaCy.

spaCy refuses texts over ``nlp.max_length`` (1,000,000 characters) with E088, and the
whole batch, then the whole ingest, would die with it; an over-long article is
rejected instead, by its length or, for input too big to hold, by its size in bytes.
"""

from __future__ import annotations

from corpus.records import Reject

#: spaCy's default ``nlp.max_length``
MAX_CHARS = 1_000_000
#: the most UTF-8 bytes one character takes: a file over 4 bytes x limit is surely too long
UTF8_MAX = 4


def too_long(file: str, line: int, chars: int, limit: int) -> Reject:
    """The reject for an article whose length is known."""
    return Reject(file, line, f"article of {chars:,} characters exceeds the {limit:,}-character limit")


def too_big(file: str, line: int, limit: int, detail: str) -> Reject:
    """The reject for input judged too long from its size alone (``detail``), without holding it."""
    return Reject(
        file, line, f"article of over {limit:,} characters ({detail}) exceeds the {limit:,}-character limit"
    )
