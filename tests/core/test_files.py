"""Atomic writes: the destination is the old file or the whole new one, and no temp file stays behind."""

from __future__ import annotations

import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.files import AtomicFile, atomic_open, atomic_write


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_replaces_the_file_with_the_mode_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "a.txt"
    atomic_write(path, "old")
    atomic_write(path, "nouveau é")
    assert path.read_text(encoding="utf-8") == "nouveau é"
    assert _mode(path) == 0o644
    atomic_write(path, b"ro", readonly=True)
    assert _mode(path) == 0o444
    secret = tmp_path / "secret.json"
    atomic_write(secret, "{}", private=True)
    assert _mode(secret) == 0o600
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.txt", "secret.json", "sub"]


def test_atomic_open_streams_and_leaves_the_old_file_on_error(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    with atomic_open(path) as fh:
        for i in range(3):
            fh.write(bytes([i]) * 4)
        assert not path.exists()  # nothing visible until the block ends
    assert path.read_bytes() == b"\x00" * 4 + b"\x01" * 4 + b"\x02" * 4
    with pytest.raises(ValueError), atomic_open(path) as fh:
        fh.write(b"half")
        raise ValueError("checksum mismatch")
    assert path.read_bytes() == b"\x00" * 4 + b"\x01" * 4 + b"\x02" * 4
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_atomic_file_spans_calls_and_takes_arrow_writers(tmp_path: Path) -> None:
    """What the corpus store does: Arrow writers on the handle, committed or discarded later."""
    table = pa.table({"id": ["a", "b"], "n": [1, 2]})
    kept, dropped = AtomicFile(tmp_path / "kept.parquet"), AtomicFile(tmp_path / "dropped.arrow")
    writer = pq.ParquetWriter(kept.file, table.schema)
    writer.write_table(table)
    writer.close()
    ipc = pa.ipc.new_file(dropped.file, table.schema)
    ipc.write_table(table)
    ipc.close()
    kept.commit()
    dropped.discard()
    dropped.discard()  # twice is harmless
    assert pq.read_table(tmp_path / "kept.parquet").equals(table)
    assert [p.name for p in tmp_path.iterdir()] == ["kept.parquet"]
