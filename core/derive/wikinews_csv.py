"""Wikinews CSV scrape (github.com/vanatteveldt/wikinews, columns url, date, title, text) to corpus JSONL.

Rules (the mirror's SOURCE.txt): the Wikinews test pages are dropped, whitespace is normalised
and the scrape's doubled ``//wiki/`` in URLs is fixed; the text is otherwise unchanged.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence

from core.derive import Derivation, Source, register
from core.derive.records import jsonl_bytes, normalise_text
from core.errors import NewslabError

COLUMNS = ("url", "date", "title", "text")
SOURCE = "en.wikinews.org (via github.com/vanatteveldt/wikinews)"
LICENSE, LICENSE_URL = "CC BY 2.5", "https://creativecommons.org/licenses/by/2.5/"
TEST_PAGE = "TEST PAGE:"
#: interviews and monthly round-ups; flagged so samplers can leave them out
LONG_WORDS = 3000
ID_CHARS = 120


def article_id(url: str) -> str:
    """``wnen-`` and the page name with every run of other characters than ASCII letters and digits
    as ``_`` (percent escapes included), cut at 120 characters."""
    page = url.split("/wiki/", 1)[1]
    return "wnen-" + re.sub(r"[^A-Za-z0-9]+", "_", page)[:ID_CHARS]


def record(row: dict[str, str], origin: str) -> dict:
    url = re.sub(r"^(https?://[^/]+)//wiki/", r"\1/wiki/", row["url"])
    text = normalise_text(row["text"])
    n_words = len(text.split())
    return {
        "id": article_id(url),
        "source": SOURCE,
        "source_file": origin,
        "lang": "en",
        "url": url,
        "title": row["title"],
        "date": row["date"],
        "author": None,
        "categories": [],
        "tags": [],
        "text": text,
        "n_words": n_words,
        "license": LICENSE,
        "license_url": LICENSE_URL,
        "attribution": f'"{row["title"]}", Wikinews, {url} ({LICENSE})',
        "flags": ["very_long_interview_or_feature"] if n_words > LONG_WORDS else [],
    }


def derive(sources: Sequence[Source]) -> bytes:
    records = []
    for source in sources:
        with open(source.path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if tuple(reader.fieldnames or ()) != COLUMNS:
                raise NewslabError(
                    f"{source.path}: columns {reader.fieldnames}, a Wikinews scrape has {list(COLUMNS)}."
                )
            rows = (row for row in reader if not row["title"].startswith(TEST_PAGE))
            records += [record(row, source.origin) for row in rows]
    return jsonl_bytes(records)


register(Derivation("wikinews_csv", "Wikinews CSV scrape to corpus JSONL (test pages dropped)", derive))
