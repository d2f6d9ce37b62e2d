"""The one JSON Lines reader: line numbers, a BOM, and each kind of broken line named."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import NewslabError
from core.jsonl import read_jsonl


def test_records_come_with_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "ok.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n\n{"a": 2}\n')
    assert list(read_jsonl(path)) == [(1, {"a": 1}), (3, {"a": 2})]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"a": 1}\n{"a": \n', r"bad.jsonl: line 2: not a label record \(malformed JSON"),
        (b'{"a": 1}\n[1, 2]\n', r"bad.jsonl: line 2: not a label record \(a JSON list"),
        (b'{"a": "caf\xe9"}\n', r"bad.jsonl: line 1: not UTF-8"),
    ],
)
def test_a_broken_line_is_named(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(NewslabError, match=message):
        list(read_jsonl(path, "label record"))
