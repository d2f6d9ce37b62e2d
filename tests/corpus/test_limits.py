"""Finding 1: an oversized article is a reject, not the end of the ingest."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from core.settings import Settings
from corpus import readers
from corpus.ingest import ingest
from corpus.readers import ReaderOptions, read_path
from corpus.records import RawArticle, Reject
from corpus.store import Store
from tests.conftest import run_cli
from tests.corpus.helpers import article, jsonl


def _items(path: Path, **options) -> list:  # type: ignore[no-untyped-def]
    return list(read_path(path, ReaderOptions(**options)))


def test_cli_rejects_an_article_over_spacys_limit_and_adds_the_others(
    settings: Settings, tmp_path: Path
) -> None:
    path = jsonl(tmp_path / "a.jsonl", [article(1), "word " * 200_000 + "x", article(2)])  # 1,000,001 chars
    result = run_cli("corpus", "ingest", str(path), env={"NEWSLAB_DATA_DIR": str(settings.data_dir)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "E088" not in result.stderr and "Traceback" not in result.stderr
    assert "added 2" in result.stdout and "rejected 1" in result.stdout
    [log] = (settings.data_dir / "corpus" / "rejects").glob("*.jsonl")
    [entry] = [json.loads(x) for x in log.read_text().splitlines()]
    assert entry["file"] == str(path) and entry["line"] == 2
    assert entry["reason"] == "article of 1,000,001 characters exceeds the 1,000,000-character limit"


def test_ingest_keeps_the_others_with_a_small_limit(settings: Settings, tmp_path: Path) -> None:
    root = settings.data_dir / "corpus"
    path = jsonl(tmp_path / "a.jsonl", [article(1, 50), article(2, 500), article(3, 50)])
    report = ingest([path], root=root, options=ReaderOptions(max_chars=1000))
    assert report.added == 2 and len(Store(root)) == 2
    [reject] = report.rejects
    assert reject.line == 2 and "exceeds the 1,000-character limit" in reject.reason


def test_big_text_file_is_rejected_from_its_size_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.txt"
    path.write_text("Title\n" + "x" * 4000)  # 4,006 bytes > 4 x 1,000
    monkeypatch.setattr(readers, "_read_text", lambda *a: pytest.fail("the file was read"))
    [reject] = _items(path, max_chars=1000)
    assert isinstance(reject, Reject)
    assert reject.reason == (
        "article of over 1,000 characters (a file of 4,006 bytes) exceeds the 1,000-character limit"
    )


def test_text_file_between_limit_and_four_times_it_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "mid.txt"
    path.write_text("Title\n" + "é" * 1500)  # 3,006 bytes, 1,506 characters
    [reject] = _items(path, max_chars=1000)
    assert isinstance(reject, Reject) and "article of 1,506 characters" in reject.reason
    [ok] = _items(path, max_chars=2000)
    assert isinstance(ok, RawArticle)


def test_one_huge_jsonl_line_is_rejected_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    with path.open("w") as fh:
        fh.write(json.dumps({"title": "ok", "text": "fine"}) + "\n")
        fh.write(json.dumps({"title": "huge", "text": "word " * 1_000_000}) + "\n")  # 5 MB on one line
        fh.write(json.dumps({"title": "ok2", "text": "fine too"}) + "\n")
    tracemalloc.start()
    try:
        items = _items(path, max_chars=1000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [i.title for i in items if isinstance(i, RawArticle)] == ["ok", "ok2"]
    [reject] = [i for i in items if isinstance(i, Reject)]
    assert reject.line == 2 and "exceeds the 1,000-character limit" in reject.reason
    assert "a line of 5,000,0" in reject.reason
    assert peak < 2_000_000  # the 5 MB line was never held


def test_csv_long_record_is_rejected_and_the_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "title,text\n"
        "A,short one\n"
        f"B,{'y' * 1500}\n"  # over the limit, within the record cap: counted
        f'C,"{"z" * 70_000}"\n'  # over the record cap: not held
        "D,short two\n"
    )
    items = _items(path, max_chars=1000)
    assert [i.title for i in items if isinstance(i, RawArticle)] == ["A", "D"]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert [r.line for r in rejects] == [3, 4]
    assert "article of 1,500 characters exceeds" in rejects[0].reason
    assert "article of over 1,000 characters" in rejects[1].reason
