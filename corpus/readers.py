"""Readers for the formats researchers hold articles in.

Each reader yields ``RawArticle``s and, for input it cannot use, ``Reject``s that
name the file, the line and the reason; a bad record never stops the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import BinaryIO

from core.errors import NewslabError
from corpus.csvread import TooLong, records
from corpus.limits import MAX_CHARS, UTF8_MAX, too_big, too_long
from corpus.records import RawArticle, Reject
from corpus.walk import walk

Item = RawArticle | Reject

#: our field -> the default column/key name in JSONL and CSV files
DEFAULT_FIELDS = {
    "title": "title",
    "text": "text",
    "url": "url",
    "published": "date",
    "source": "source",
    "licence": "license",
    "attribution": "attribution",
    "author": "author",
}
FORMATS = {
    ".txt": "text",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".html": "html",
    ".htm": "html",
}


@dataclass(frozen=True)
class ReaderOptions:
    #: overrides of DEFAULT_FIELDS, e.g. {"text": "body", "title": "headline"}
    fields: dict[str, str] = field(default_factory=dict)
    source: str = ""  #: used when a record names no source
    licence: str = ""  #: used when a record names no licence
    max_file_bytes: int = 512 * 1024 * 1024
    format: str | None = None  #: force a format instead of guessing from the suffix
    max_chars: int = MAX_CHARS  #: longer articles are rejected before spaCy sees them

    def __post_init__(self) -> None:
        if self.format is not None and self.format not in READERS:
            raise NewslabError(
                f"--format {self.format}: not a format newslab reads.", f"Use one of {', '.join(READERS)}."
            )
        if self.max_chars < 1:
            raise NewslabError(f"--max-chars {self.max_chars}: must be at least 1.")

    def column(self, name: str) -> str:
        return self.fields.get(name, DEFAULT_FIELDS[name])


def iso_date(value: object) -> str:
    """An ISO date (YYYY-MM-DD) from common spellings, or '' when it cannot be read."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return ""


def _decode(path: Path, data: bytes) -> str | Reject:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return Reject(
            str(path), line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        )


def _read_bytes(path: Path, options: ReaderOptions) -> bytes | Reject:
    try:
        size = path.stat().st_size
        if size > options.max_file_bytes:
            limit = options.max_file_bytes / 2**20
            return Reject(str(path), 0, f"file of {size / 2**20:.1f} MiB exceeds the {limit:.0f} MiB limit")
        return path.read_bytes()
    except OSError as exc:
        return Reject(str(path), 0, f"unreadable: {exc.strerror or exc}")


def _read_text(path: Path, options: ReaderOptions) -> str | Reject:
    data = _read_bytes(path, options)
    return data if isinstance(data, Reject) else _decode(path, data)


def _record(values: dict, path: Path, line: int, options: ReaderOptions) -> Item:
    def get(name: str) -> str:
        value = values.get(options.column(name))
        return "" if value is None else str(value)

    text_column = options.column("text")
    if text_column not in values:
        return Reject(str(path), line, f"no {text_column!r} field")
    if len(get("text")) > options.max_chars:
        return too_long(str(path), line, len(get("text")), options.max_chars)
    return RawArticle(
        title=get("title"),
        text=get("text"),
        source_file=str(path),
        source_line=line,
        source=get("source") or options.source,
        url=get("url"),
        published=iso_date(values.get(options.column("published"))),
        licence=get("licence") or options.licence,
        attribution=get("attribution"),
        author=get("author"),
    )


def _read_article_text(path: Path, options: ReaderOptions) -> str | Reject:
    """The file's text, or a Reject; a file too big to hold an article within the limit is
    rejected from its size, without being read."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return Reject(str(path), 0, f"unreadable: {exc.strerror or exc}")
    if size > options.max_file_bytes:
        return _read_bytes(path, options)  # the file-size reject
    if size > UTF8_MAX * options.max_chars:
        return too_big(str(path), 0, options.max_chars, f"a file of {size:,} bytes")
    text = _read_text(path, options)
    if isinstance(text, str) and len(text) > options.max_chars:
        return too_long(str(path), 0, len(text), options.max_chars)
    return text


def read_text(path: Path, options: ReaderOptions) -> Iterator[Item]:
    """A plain-text article: the title on the first line, the body after it."""
    text = _read_article_text(path, options)
    if isinstance(text, Reject):
        yield text
        return
    title, _, body = text.strip().partition("\n")
    yield RawArticle(
        title=title.strip(),
        text=body,
        source_file=str(path),
        source_line=1,
        source=options.source or path.parent.name,
        licence=options.licence,
    )


def read_jsonl(path: Path, options: ReaderOptions) -> Iterator[Item]:
    """One JSON object per line; a bad line is rejected, the others are read."""
    try:
        size = path.stat().st_size
        if size > options.max_file_bytes:
            yield from [Reject(str(path), 0, f"file of {size / 2**20:.1f} MiB exceeds the limit")]
            return
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        yield Reject(str(path), 0, f"unreadable: {exc.strerror or exc}")
        return
    cap = 6 * options.max_chars + 65_536  # a line holding an article within the limit, every char escaped
    with fh:
        line_no = 0
        while raw := fh.readline(cap + 1):
            line_no += 1
            if len(raw) > cap and not raw.endswith(b"\n"):
                yield too_big(
                    str(path), line_no, options.max_chars, f"a line of {len(raw) + _skip_line(fh):,} bytes"
                )
                continue
            if not raw.strip():
                continue
            try:
                values = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield Reject(str(path), line_no, f"not valid UTF-8 (offset {exc.start} in the line)")
                continue
            except json.JSONDecodeError as exc:
                yield Reject(str(path), line_no, f"invalid JSON: {exc.msg} (column {exc.colno})")
                continue
            if not isinstance(values, dict):
                yield Reject(str(path), line_no, f"expected a JSON object, got {type(values).__name__}")
                continue
            yield _record(values, path, line_no, options)


def _skip_line(fh: BinaryIO) -> int:
    """Read to the end of the line without holding it; the bytes skipped."""
    skipped = 0
    while (chunk := fh.readline(1 << 16)) and not chunk.endswith(b"\n"):
        skipped += len(chunk)
    return skipped + len(chunk)


def read_csv(path: Path, options: ReaderOptions) -> Iterator[Item]:
    """CSV (or TSV) with a header row, read strictly and streamed; column names are configurable."""
    try:
        size = path.stat().st_size
        if size > options.max_file_bytes:
            yield _read_bytes(path, options)  # the file-size reject
            return
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        yield Reject(str(path), 0, f"unreadable: {exc.strerror or exc}")
        return
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    cap = options.max_chars + 65_536  # the article and its other fields
    header: list[str] | None = None
    with fh:
        for item in records(fh, str(path), delimiter, cap):
            if isinstance(item, TooLong):
                yield too_big(str(path), item.line, options.max_chars, f"a record of over {cap:,} characters")
                continue
            if isinstance(item, Reject):
                yield item
                continue
            line, fields = item
            if header is None:
                header = fields
                if options.column("text") not in header:
                    yield Reject(
                        str(path), line, f"no {options.column('text')!r} column (header: {', '.join(header)})"
                    )
                    return
                continue
            if len(fields) != len(header):
                yield Reject(str(path), line, f"expected {len(header)} fields")
                continue
            yield _record(dict(zip(header, fields, strict=True)), path, line, options)


def read_html(path: Path, options: ReaderOptions) -> Iterator[Item]:
    """An HTML page: main text and metadata extracted with trafilatura."""
    import trafilatura

    data = _read_bytes(path, options)
    if isinstance(data, Reject):
        yield data
        return
    doc = trafilatura.bare_extraction(data, with_metadata=True, include_comments=False)
    if doc is None or not (doc.text or "").strip():
        yield Reject(str(path), 0, "no main text found in the HTML")
        return
    text = doc.text
    if len(text) > options.max_chars:
        yield too_long(str(path), 0, len(text), options.max_chars)
        return
    title = doc.title or ""
    if title and text.startswith(title + "\n"):
        text = text[len(title) + 1 :]
    yield RawArticle(
        title=title,
        text=text,
        source_file=str(path),
        source_line=0,
        source=options.source or doc.sitename or doc.hostname or "",
        url=doc.url or "",
        published=iso_date(doc.date),
        licence=doc.license or options.licence,
        author=doc.author or "",
    )


READERS = {"text": read_text, "jsonl": read_jsonl, "csv": read_csv, "html": read_html}


def read_path(path: Path, options: ReaderOptions | None = None) -> Iterator[Item]:
    """Read a file or, recursively, a folder (hidden files skipped, sorted order)."""
    options = options or ReaderOptions()
    path = Path(path)
    if path.is_dir():
        for child in walk(path):
            if isinstance(child, Reject):
                yield child
            elif options.format is None and child.suffix.lower() not in FORMATS:
                yield Reject(str(child), 0, f"unsupported file type {child.suffix or '(none)'!r}")
            else:
                yield from read_path(child, options)
        return
    if not path.exists():
        yield Reject(str(path), 0, "no such file or folder")
        return
    fmt = options.format or FORMATS.get(path.suffix.lower())
    if fmt is None:
        yield Reject(str(path), 0, f"unsupported file type {path.suffix or '(none)'!r}; use --format")
        return
    yield from READERS[fmt](path, options)
