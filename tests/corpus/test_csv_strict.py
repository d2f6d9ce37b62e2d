"""Finding 2: an unclosed quote in a CSV rejects its record instead of swallowing the next rows."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings
from corpus.ingest import ingest
from corpus.readers import ReaderOptions, read_path
from corpus.records import RawArticle, Reject
from tests.corpus.helpers import article


def _items(path: Path) -> list:
    return list(read_path(path, ReaderOptions()))


def _split(items: list) -> tuple[list[RawArticle], list[Reject]]:
    return [i for i in items if isinstance(i, RawArticle)], [i for i in items if isinstance(i, Reject)]


def test_unclosed_quote_at_the_end_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text('id,title,text\n1,A,"Body a\n2,B,Body b\n3,C,Body c\n')
    good, [reject] = _split(_items(path))
    assert [(g.title, g.text) for g in good] == [("B", "Body b"), ("C", "Body c")]
    assert reject.file == str(path) and reject.line == 2
    assert reject.reason == "unbalanced quote: the quoted field opened on line 2 is not closed"


def test_unclosed_quote_closed_by_a_stray_quote_rows_later(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text('id,title,text\n1,A,"Body a\n2,B,Body b\n3,C,Body c"\n4,D,Body d\n')
    good, [reject] = _split(_items(path))
    assert [g.title for g in good] == ["B", "C", "D"]
    assert reject.line == 2 and reject.reason.startswith(
        "unbalanced quote: the quoted field opened on line 2"
    )


def test_unclosed_quote_before_a_quoted_row(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text('id,title,text\n1,A,"Body a\n2,B,"Body b"\n')
    good, [reject] = _split(_items(path))
    assert [g.title for g in good] == ["B"] and reject.line == 2 and "unbalanced quote" in reject.reason


def test_multi_line_paragraphs_are_still_one_article(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    body = 'Para one.\n\nPara two, with commas, many.\nLast para, quoting ""him"".'
    path.write_text(f'id,title,text\n1,First,"{body}"\n2,Second,"Two\nlines"\n3,Third,Body three\n')
    good, rejects = _split(_items(path))
    assert rejects == []
    assert [g.title for g in good] == ["First", "Second", "Third"]
    assert good[0].text == body.replace('""', '"') and good[1].text == "Two\nlines"


def test_ingest_adds_the_swallowed_rows_and_rejects_the_bad_one(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    a, b, c = article(1), article(2), article(3)
    path.write_text(f'title,text\nA,"{a}\nB,{b}\nC,{c}\n')
    report = ingest([path], root=settings.data_dir / "corpus")
    assert report.added == 2 and [r.line for r in report.rejects] == [2]
    assert "unbalanced quote" in report.rejects[0].reason
