"""Strict CSV, streamed a record at a time, each record with the line it starts on.

Left lenient, the csv module lets an unclosed quote swallow every row after it into one
field: one "article" holding the next rows, and "rejected 0". Here a quote that never
closes, or a quoted field that closes only after taking in lines that parse as rows like
its own, rejects the record it opened; the lines after that record's first are then read
again as rows, so one bad quote costs one record. Legit multi-line fields (paragraphs in
an article body) are kept. A record over the length cap is rejected without being held.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections import deque
from collections.abc import Iterator
from typing import BinaryIO

from corpus.limits import UTF8_MAX
from corpus.records import Reject

#: a first field that identifies a row: one word (an id, a date, a URL), not prose
_TOKEN = re.compile(r'[^\s"]{1,64}')


class TooLong(Exception):
    """The record being read passed the cap; ``line`` is where it started."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class Lines:
    """Numbered physical lines of a binary file, decoded one at a time, with push-back.

    Counts the characters of the record being read and raises :class:`TooLong` past ``cap``;
    a physical line too long to be a legit record is skipped to its end without being held.
    """

    def __init__(self, fh: BinaryIO, cap: int) -> None:
        self.fh, self.cap = fh, cap
        self.back: deque[tuple[int, str]] = deque()
        self.read = 0  #: physical lines taken from the file
        self.record: list[tuple[int, str]] = []
        self.chars = 0
        self.bad = ""  #: why the record's bytes are not text, if they are not

    def start(self) -> None:
        self.record, self.chars, self.bad = [], 0, ""

    def push_back(self, lines: list[tuple[int, str]]) -> None:
        self.back.extendleft(reversed(lines))

    def __iter__(self) -> Lines:
        return self

    def __next__(self) -> str:
        number, line = self.back.popleft() if self.back else self._read()
        self.record.append((number, line))
        self.chars += len(line)
        if self.chars > self.cap:
            raise TooLong(self.record[0][0])
        return line

    def _read(self) -> tuple[int, str]:
        limit = UTF8_MAX * self.cap
        raw = self.fh.readline(limit + 1)
        if not raw:
            raise StopIteration
        self.read += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            chunk = raw
            while chunk and not chunk.endswith(b"\n"):  # skip the rest of the line, holding none of it
                chunk = self.fh.readline(1 << 16)
            raise TooLong(self.record[0][0] if self.record else self.read)
        if self.read == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            return self.read, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if not self.bad:
                self.bad = f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} on line {self.read})"
            return self.read, raw.decode("utf-8", errors="replace")


def _shape(value: str) -> str:
    return "digits" if value.isdigit() else "word"


def swallowed(fields: list[str], width: int, delimiter: str) -> bool:
    """Whether the record's multi-line fields consist mostly of lines that parse as rows like it:
    ``width`` fields, the first one an identifier of the same shape as the record's own."""
    first = fields[0] if fields else ""
    if not _TOKEN.fullmatch(first):
        return False
    inner = [line.rstrip("\r") for value in fields for line in value.split("\n")[1:]]
    inner = [line for line in inner if line.strip()]
    rowlike = 0
    for line in inner:
        try:
            row = next(csv.reader([line], delimiter=delimiter, strict=True))
        except (csv.Error, StopIteration):
            continue
        if len(row) == width and _TOKEN.fullmatch(row[0]) and _shape(row[0]) == _shape(first):
            rowlike += 1
    return rowlike > 0 and 2 * rowlike >= len(inner)


def _reader(lines: Lines, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(lines, delimiter=delimiter, strict=True)


def records(
    fh: BinaryIO, name: str, delimiter: str, cap: int
) -> Iterator[tuple[int, list[str]] | Reject | TooLong]:
    """The header, then every record, each as (its last line, as csv's ``line_num`` gives it, and
    its fields); a record that cannot be read as one is a Reject naming the line it starts on (or a
    TooLong, for the caller to word), and reading goes on."""
    if csv.field_size_limit() < cap:  # the default (131,072) is below an article's length limit
        csv.field_size_limit(cap)
    lines = Lines(fh, cap)
    reader = _reader(lines, delimiter)
    width: int | None = None
    while True:
        lines.start()
        try:
            fields = next(reader)
        except StopIteration:
            return
        except TooLong as exc:
            yield exc
            problem = None
        except csv.Error as exc:
            problem = _malformed(name, lines, str(exc))
        else:
            if not fields:
                continue  # a blank line
            start = lines.record[0][0]
            if lines.bad:
                yield Reject(name, start, lines.bad)
                continue
            if width is None or len(lines.record) == 1 or not swallowed(fields, width, delimiter):
                width = len(fields) if width is None else width
                yield lines.record[-1][0], fields
                continue
            end = lines.record[-1][0]
            problem = Reject(
                name,
                start,
                f"unbalanced quote: the quoted field opened on line {start} takes in lines up to "
                f"{end} that read as rows of their own",
            )
        if problem is not None:
            yield problem
        if width is None:
            return  # no header: nothing after it can be read
        lines.push_back(lines.record[1:])  # read again as rows what the bad record took in
        reader = _reader(lines, delimiter)


def _malformed(name: str, lines: Lines, error: str) -> Reject:
    start = lines.record[0][0] if lines.record else lines.read
    if len(lines.record) > 1 or "end of data" in error:
        return Reject(name, start, f"unbalanced quote: the quoted field opened on line {start} is not closed")
    return Reject(name, start, f"malformed CSV: {error}")
