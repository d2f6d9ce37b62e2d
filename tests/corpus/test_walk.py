"""Finding 6: unreadable folders and symlink loops are rejects; a missing path or an unknown
format is an error before any work."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from core.errors import NewslabError
from core.settings import Settings
from corpus.ingest import ingest
from corpus.readers import ReaderOptions, read_path
from corpus.records import RawArticle, Reject
from tests.conftest import run_cli


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("A\nbody a")
    (root / "sub" / "b.txt").write_text("B\nbody b")
    return root


def test_symlink_loops_are_rejects(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "sub" / "up").symlink_to("..")  # a folder link back to an ancestor
    (root / "self.txt").symlink_to("self.txt")  # a link to itself
    (root / "gone.txt").symlink_to("nowhere.txt")
    items = list(read_path(root, ReaderOptions()))
    assert [i.title for i in items if isinstance(i, RawArticle)] == ["A", "B"]
    rejects = {Path(r.file).name: r.reason for r in items if isinstance(r, Reject)}
    assert rejects == {"up": "symlink loop", "self.txt": "symlink loop", "gone.txt": "broken symlink"}


def test_unreadable_folder_is_a_reject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path)
    real = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path) == root / "sub":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)  # root reads anything: simulate the refusal
    items = list(read_path(root, ReaderOptions()))
    assert [i.title for i in items if isinstance(i, RawArticle)] == ["A"]
    [reject] = [i for i in items if isinstance(i, Reject)]
    assert reject.file == str(root / "sub") and reject.reason == "unreadable: Permission denied"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any folder")
def test_unreadable_folder_for_real(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "sub").chmod(0)
    try:
        items = list(read_path(root, ReaderOptions()))
    finally:
        (root / "sub").chmod(0o755)
    [reject] = [i for i in items if isinstance(i, Reject)]
    assert "unreadable" in reject.reason


def test_missing_path_is_an_error_before_any_work(settings: Settings, tmp_path: Path) -> None:
    root = settings.data_dir / "corpus"
    with pytest.raises(NewslabError, match=r"no such file or folder: .*nope"):
        ingest([_tree(tmp_path), tmp_path / "nope"], root=root)
    assert not root.exists()
    env = {"NEWSLAB_DATA_DIR": str(settings.data_dir)}
    result = run_cli("corpus", "ingest", str(tmp_path / "nope"), env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "no such file or folder" in result.stderr and "nope" in result.stderr
    assert not root.exists()


def test_unknown_format_lists_the_known_ones(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(NewslabError, match="--format xml"):
        ReaderOptions(format="xml")
    env = {"NEWSLAB_DATA_DIR": str(settings.data_dir)}
    result = run_cli("corpus", "ingest", str(_tree(tmp_path)), "--format", "xml", env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr and "KeyError" not in result.stderr
    assert "text, jsonl, csv, html" in result.stderr
    assert not (settings.data_dir / "corpus").exists()
