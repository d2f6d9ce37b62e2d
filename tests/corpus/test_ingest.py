from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import NewslabError
from core.settings import Settings
from corpus import ingest as ingest_mod
from corpus.ingest import ingest
from corpus.readers import ReaderOptions
from corpus.stats import corpus_stats, length_histogram
from corpus.store import Store
from tests.conftest import run_cli
from tests.corpus.helpers import WORDS
from tests.corpus.helpers import article as _article
from tests.corpus.helpers import jsonl as _jsonl


def test_real_sources_ingest_together_and_a_second_ingest_adds_nothing(
    settings: Settings, shared: Path
) -> None:
    paths = [
        shared / "corpus" / "seed" / "000_6e134be8f4b8ed7e.txt",
        shared / "corpus" / "wikinews_en" / "articles.jsonl",
        shared / "corpus" / "globalvoices_en" / "articles.jsonl",
    ]
    root = settings.data_dir / "corpus"
    first = ingest(paths, root=root)
    assert first.rejects == [] and first.duplicates == 0
    assert first.added == first.total == 1 + 293 + 407  # the sources hold no duplicates of each other
    store = Store(root)
    table = store.table(["title", "lang", "source", "published", "licence", "word_count", "sentence_starts"])
    rows = table.to_pylist()
    seed = [r for r in rows if r["title"].startswith("La Russia sembra pronta")]
    assert len(seed) == 1 and seed[0]["lang"] == "it"
    assert sum(r["lang"] == "en" for r in rows) > 680
    assert all(r["word_count"] > 0 and r["sentence_starts"][0] == 0 for r in rows)
    assert store.manifest["sources"]["seed"] == 1
    wikinews = [r for r in rows if r["source"].startswith("en.wikinews")]
    assert len(wikinews) == 293 and all(r["licence"] == "CC BY 2.5" and r["published"] for r in wikinews)

    content_hash = store.manifest["content_hash"]
    again = ingest(paths, root=root)
    assert again.added == 0 and again.duplicates == 701 and again.total == 701
    assert Store(root).manifest["content_hash"] == content_hash
    assert len(Store(root).manifest["runs"]) == 1


def test_append_is_idempotent_and_near_duplicates_cluster(settings: Settings, tmp_path: Path) -> None:
    root = settings.data_dir / "corpus"
    base = [_article(i) for i in range(6)]
    near = base[0].replace(WORDS[0], "changed", 1).replace(". ", "; ", 1)  # a near-duplicate of base[0]
    a = _jsonl(tmp_path / "a.jsonl", base[:3])
    b = _jsonl(tmp_path / "b.jsonl", [*base, near, base[1]])  # overlaps a; base[1] twice
    assert ingest([a], root=root).added == 3
    report = ingest([b], root=root)
    assert report.added == 4 and report.duplicates == 4 and report.total == 7
    store = Store(root)
    ids = store.column("id").tolist()
    assert len(set(ids)) == 7
    near_id = ids[-1]
    cluster = store.cluster_of(near_id)
    assert cluster["cluster_size"] == 2 and cluster["cluster"] == ids[0]
    assert report.clusters == 1 and report.articles_in_clusters == 2


def test_rejects_are_reported_and_strict_adds_nothing(settings: Settings, tmp_path: Path) -> None:
    root = settings.data_dir / "corpus"
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        json.dumps({"title": "ok", "text": _article(1)})
        + "\n"
        + "{not json\n"
        + json.dumps({"title": "empty", "text": "   \n\n"})
        + "\n"
    )
    with pytest.raises(NewslabError, match=r"2 input\(s\) rejected; first: .*mixed.jsonl: line 2"):
        ingest([path], root=root, strict=True)
    assert len(Store(root)) == 0
    report = ingest([path], root=root)
    assert report.added == 1
    assert [(r.line, r.reason.split(":")[0]) for r in report.rejects] == [
        (2, "invalid JSON"),
        (3, "empty article (no text after normalisation)"),
    ]
    [log] = (root / "rejects").glob("*.jsonl")
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert {x["line"] for x in lines} == {2, 3} and all(x["file"] == str(path) for x in lines)


def test_interrupted_ingest_leaves_the_store_as_it_was(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = settings.data_dir / "corpus"
    ingest([_jsonl(tmp_path / "a.jsonl", [_article(1)])], root=root)
    before = (root / "manifest.json").read_text()
    calls = {"n": 0}
    real = ingest_mod.analyse

    def crash_on_second_batch(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest_mod, "analyse", crash_on_second_batch)
    texts = [_article(10 + i) for i in range(5)]
    with pytest.raises(KeyboardInterrupt):
        ingest([_jsonl(tmp_path / "b.jsonl", texts)], root=root, batch_size=2)
    assert (root / "manifest.json").read_text() == before
    assert len(Store(root)) == 1
    monkeypatch.setattr(ingest_mod, "analyse", real)
    assert ingest([tmp_path / "b.jsonl"], root=root, batch_size=2).added == 5
    leftovers = [p.name for p in root.rglob(".*") if p.name != ".lock"]  # the lock file stays, by design
    assert leftovers == []


def test_workers_give_the_same_store(settings: Settings, tmp_path: Path) -> None:
    texts = [_article(i) for i in range(30)]
    path = _jsonl(tmp_path / "a.jsonl", texts)
    one = ingest([path], root=tmp_path / "one", batch_size=7)
    two = ingest([path], root=tmp_path / "two", batch_size=7, workers=2)
    assert one.added == two.added == 30
    a, b = Store(tmp_path / "one"), Store(tmp_path / "two")
    assert a.manifest["content_hash"] == b.manifest["content_hash"]
    assert a.table(["id", "lang", "sentence_starts"]).equals(b.table(["id", "lang", "sentence_starts"]))


def test_stats_and_histogram(settings: Settings, tmp_path: Path) -> None:
    root = settings.data_dir / "corpus"
    ingest(
        [_jsonl(tmp_path / "a.jsonl", [_article(i, n=50 * (i + 1)) for i in range(5)])],
        root=root,
        options=ReaderOptions(source="test"),
    )
    stats = corpus_stats(Store(root))
    assert stats.articles == 5 and stats.sources == {"test": 5}
    assert stats.words["min"] == 50 and stats.words["max"] == 250
    png = length_histogram(Store(root), tmp_path / "h.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_cli_ingest_stats_show(settings: Settings, tmp_path: Path) -> None:
    env = {"NEWSLAB_DATA_DIR": str(settings.data_dir)}
    good = _jsonl(tmp_path / "a.jsonl", [_article(1), _article(2)])
    bad = tmp_path / "b.csv"
    bad.write_text("title,text\nx,y,z\n")
    result = run_cli("corpus", "ingest", str(good), str(bad), "--source", "cli", env=env)
    assert result.returncode == 0, result.stderr
    assert "added 2" in result.stdout and "rejected 1" in result.stdout
    assert "b.csv" in result.stderr and "expected 2 fields" in result.stderr
    strict = run_cli("corpus", "ingest", str(bad), "--strict", env=env)
    assert strict.returncode == 1 and "Traceback" not in strict.stderr and "b.csv: line 2" in strict.stderr
    stats = run_cli("corpus", "stats", env=env)
    assert stats.returncode == 0 and "2 articles" in stats.stdout and "lengths.png" in stats.stdout
    article_id = Store(settings.data_dir / "corpus").column("id")[0]
    show = run_cli("corpus", "show", article_id, env=env)
    assert show.returncode == 0 and article_id in show.stdout
    missing = run_cli("corpus", "show", "0000000000000000", env=env)
    assert missing.returncode == 1 and "no article" in missing.stderr
