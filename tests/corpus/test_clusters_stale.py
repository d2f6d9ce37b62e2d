"""Finding 4: clusters left stale by a kill between commit and re-clustering are repaired."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from corpus.ingest import ingest
from corpus.store import Store
from tests.corpus.helpers import WORDS, article, jsonl


def _killed_after_commit(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Ingest an article and its near-duplicate, dying right after the manifest commit; the near id."""
    base = article(1)
    near = base.replace(WORDS[0], "changed", 1).replace(". ", "; ", 1)
    ingest([jsonl(tmp_path / "a.jsonl", [article(2)])], root=root)

    def killed(self: Store, params: object) -> dict:
        raise SystemExit(137)

    with monkeypatch.context() as m:
        m.setattr(Store, "recluster", killed)
        with pytest.raises(SystemExit):
            ingest([jsonl(tmp_path / "b.jsonl", [base, near])], root=root)
    store = Store(root)
    assert len(store) == 3 and store.clusters_stale()
    return store.column("id").tolist()[-1]


def test_the_clusters_reader_repairs_stale_clusters(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = settings.data_dir / "corpus"
    near_id = _killed_after_commit(root, tmp_path, monkeypatch)
    store = Store(root)
    assert store.clusters().num_rows == 2
    assert store.cluster_of(near_id)["cluster_size"] == 2
    assert not Store(root).clusters_stale()


def test_the_next_ingest_repairs_stale_clusters_even_adding_nothing(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = settings.data_dir / "corpus"
    _killed_after_commit(root, tmp_path, monkeypatch)
    report = ingest([tmp_path / "b.jsonl"], root=root)
    assert report.added == 0 and report.clusters == 1 and report.articles_in_clusters == 2
    assert not Store(root).clusters_stale()
