"""Records of the corpus stage: what a reader yields, what the store keeps, what is rejected."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RawArticle:
    """An article as a reader found it, before normalisation."""

    title: str
    text: str
    source_file: str
    source_line: int  #: 1-based line (JSONL, CSV) or 0 for whole-file formats
    source: str = ""
    url: str = ""
    published: str = ""  #: ISO date when known
    licence: str = ""
    attribution: str = ""
    author: str = ""


@dataclass(frozen=True, slots=True)
class Reject:
    """Input that could not become an article, and why."""

    file: str
    line: int
    reason: str


@dataclass(slots=True)
class Article:
    """A clean article, as stored. ``id`` is derived from the normalised text."""

    id: str
    key: int  #: the 64-bit integer behind ``id``
    title: str
    text: str
    lang: str
    lang_score: float
    source: str
    url: str
    published: str
    licence: str
    attribution: str
    author: str
    word_count: int
    source_file: str
    source_line: int
    sentence_starts: list[int] = field(default_factory=list)  #: char offsets in ``text``
