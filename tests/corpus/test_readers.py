from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from corpus.readers import ReaderOptions, iso_date, read_path
from corpus.records import RawArticle, Reject


def _items(path: Path, **options) -> list:  # type: ignore[no-untyped-def]
    return list(read_path(path, ReaderOptions(**options)))


def test_plain_text_title_then_body(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Il titolo\n\nPrimo paragrafo.\n\nSecondo.\n", encoding="utf-8")
    [item] = _items(path)
    assert isinstance(item, RawArticle)
    assert item.title == "Il titolo" and item.text.strip() == "Primo paragrafo.\n\nSecondo."
    assert item.source == tmp_path.name and item.source_line == 1


def test_folder_is_read_recursively_in_order_skipping_hidden(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text("T2\nbody two")
    (tmp_path / "1.txt").write_text("T1\nbody one")
    (tmp_path / ".hidden.txt").write_text("H\nnot read")
    (tmp_path / "notes.docx").write_bytes(b"PK")
    items = _items(tmp_path)
    titles = [i.title for i in items if isinstance(i, RawArticle)]
    assert titles == ["T1", "T2"]
    [reject] = [i for i in items if isinstance(i, Reject)]
    assert reject.file.endswith("notes.docx") and "unsupported" in reject.reason


def test_jsonl_with_default_and_custom_fields(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    rows = [
        {"headline": "H1", "body": "B1", "link": "https://x/1", "when": "2024-03-05T10:00:00Z"},
        {"headline": "H2", "body": "B2", "when": "Tue, 05 Mar 2024 10:00:00 GMT"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    fields = {"title": "headline", "text": "body", "url": "link", "published": "when"}
    items = _items(path, fields=fields, source="wire", licence="CC BY 4.0")
    assert [(i.title, i.text, i.published, i.source_line) for i in items] == [
        ("H1", "B1", "2024-03-05", 1),
        ("H2", "B2", "2024-03-05", 2),
    ]
    assert items[0].url == "https://x/1" and items[0].source == "wire" and items[0].licence == "CC BY 4.0"


def test_jsonl_bad_lines_are_rejected_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        b'{"title": "ok", "text": "fine"}\n'
        b'{"title": "broken", "text": \n'
        b"[1, 2]\n"
        b'{"title": "no text"}\n'
        b'{"title": "latin-1", "text": "caf\xe9"}\n'
        b'{"title": "ok2", "text": "fine too"}\n'
    )
    items = _items(path)
    assert [i.title for i in items if isinstance(i, RawArticle)] == ["ok", "ok2"]
    rejects = {i.line: i.reason for i in items if isinstance(i, Reject)}
    assert set(rejects) == {2, 3, 4, 5}
    assert "invalid JSON" in rejects[2] and "expected a JSON object" in rejects[3]
    assert "no 'text' field" in rejects[4] and "not valid UTF-8" in rejects[5]


def test_csv_with_configurable_columns_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        'id,headline,body\n1,First,"Body, with comma\nand a newline"\n2,Second\n3,Third,Body three\n'
    )
    items = _items(path, fields={"title": "headline", "text": "body"})
    good = [i for i in items if isinstance(i, RawArticle)]
    assert [(i.title, i.source_line) for i in good] == [("First", 3), ("Third", 5)]
    assert good[0].text == "Body, with comma\nand a newline"
    [reject] = [i for i in items if isinstance(i, Reject)]
    assert reject.line == 4 and "expected 3 fields" in reject.reason


def test_csv_without_the_text_column(tmp_path: Path) -> None:
    path = tmp_path / "a.tsv"
    path.write_text("title\tcontent\nx\ty\n")
    [reject] = _items(path)
    assert isinstance(reject, Reject) and reject.line == 1 and "no 'text' column" in reject.reason
    [ok] = _items(path, fields={"text": "content"})
    assert isinstance(ok, RawArticle) and ok.text == "y"


HTML = """<html><head><title>Talks resume | Example News</title>
<meta name="author" content="Jane Doe"><meta property="article:published_time" content="2024-01-05">
<link rel="canonical" href="https://news.example.org/talks"></head>
<body><nav>Home | World | Sport</nav><article><h1>Talks resume</h1>
<p>{p}</p><p>Officials from both countries met in Rome on Friday and agreed to meet again next week.</p>
</article><footer>Copyright Example News. All rights reserved.</footer></body></html>"""


def test_html_main_text_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(HTML.format(p="The foreign ministers said negotiations would resume. " * 8))
    [item] = _items(path)
    assert isinstance(item, RawArticle)
    assert item.title == "Talks resume" and item.author == "Jane Doe"
    assert item.published == "2024-01-05" and item.url == "https://news.example.org/talks"
    assert "agreed to meet again" in item.text
    assert "Home | World" not in item.text and "All rights reserved" not in item.text


def test_html_without_main_text(tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    path.write_text("<html><head><title>x</title></head><body><script>var a;</script></body></html>")
    [reject] = _items(path)
    assert isinstance(reject, Reject) and "no main text" in reject.reason


def test_wrong_encoding_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Titolo\nPerché no?\n".encode("latin-1"))
    [reject] = _items(path)
    assert isinstance(reject, Reject) and reject.line == 2 and "not valid UTF-8" in reject.reason


def test_oversized_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("T\n" + "word " * 1000)
    [reject] = _items(path, max_file_bytes=100)
    assert isinstance(reject, Reject) and "exceeds" in reject.reason


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("T\nbody")
    path.chmod(0)
    [reject] = _items(path)
    assert isinstance(reject, Reject) and "unreadable" in reject.reason


def test_unreadable_path_is_a_reject(tmp_path: Path) -> None:
    from corpus.readers import read_csv, read_html, read_jsonl, read_text

    # reading fails at the OS level (here: a folder where a file was expected, which even root cannot read)
    path = tmp_path / "dir.txt"
    path.mkdir()
    for reader in (read_text, read_csv, read_html, read_jsonl):
        [reject] = list(reader(path, ReaderOptions()))
        assert isinstance(reject, Reject) and "unreadable" in reject.reason, reader
    [missing] = _items(tmp_path / "nope.jsonl")
    assert isinstance(missing, Reject) and "no such file" in missing.reason


def test_iso_date() -> None:
    assert iso_date("2019-01-04") == "2019-01-04"
    assert iso_date("Fri, 04 Jan 2019 10:00:00 +0000") == "2019-01-04"
    assert iso_date("yesterday") == "" and iso_date(None) == ""
