"""Finding 7: a full disk while writing the store leaves no temp files, the store as it was, and an
error naming the file."""

from __future__ import annotations

import errno
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from core.settings import Settings
from corpus import store as store_mod
from corpus.ingest import ingest
from corpus.store import Store
from tests.corpus.helpers import article, jsonl


def _full(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file() and p.name != ".lock"
    }


def _setup(settings: Settings, tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    root = settings.data_dir / "corpus"
    ingest([jsonl(tmp_path / "a.jsonl", [article(1)])], root=root)
    bad = tmp_path / "b.jsonl"
    bad.write_text((tmp_path / "a.jsonl").read_text() + "{broken\n")
    jsonl(tmp_path / "new.jsonl", [article(2), article(3)])
    return root, tmp_path / "new.jsonl", _snapshot(root)


def test_disk_full_writing_articles(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:

    root, new, before = _setup(settings, tmp_path)
    monkeypatch.setattr(pq.ParquetWriter, "write_table", _full)
    with pytest.raises(OSError) as info:
        ingest([new], root=root)
    assert info.value.errno == errno.ENOSPC and info.value.filename.startswith(str(root / "articles"))
    assert _snapshot(root) == before and list(root.rglob("*.tmp")) == []


def test_disk_full_writing_the_manifest(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, new, before = _setup(settings, tmp_path)
    real = store_mod.atomic_write

    def manifest_full(path: Path, data: object, **kwargs: object) -> None:
        if Path(path).name == "manifest.json":
            _full()
        real(path, data, **kwargs)

    monkeypatch.setattr(store_mod, "atomic_write", manifest_full)
    with pytest.raises(OSError) as info:
        ingest([new, tmp_path / "b.jsonl"], root=root)  # with a reject: its log is removed too
    assert info.value.filename == str(root / "manifest.json")
    assert _snapshot(root) == before and list(root.rglob("*.tmp")) == []
    assert len(Store(root)) == 1


def test_cli_prints_one_line_naming_the_file(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from newslab.cli import main

    root, new, before = _setup(settings, tmp_path)
    monkeypatch.setattr(pq.ParquetWriter, "write_table", _full)
    with pytest.raises(SystemExit) as exit_:
        main(["corpus", "ingest", str(new)])
    err = capsys.readouterr().err
    assert exit_.value.code == 1
    assert f"error: no space left on the device: {root / 'articles'}" in " ".join(err.split())
    assert "Traceback" not in err
    assert _snapshot(root) == before
