"""Atomic writes: a file is either the old one or the whole new one, never a part.

One implementation, :class:`AtomicFile`: a temporary file beside the destination,
synced and renamed over it on commit, removed on discard. ``atomic_open`` wraps it
for a ``with`` block, ``atomic_write`` for bytes in hand; a writer that spans
several calls (the corpus store's ingest run) holds an ``AtomicFile`` itself.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

#: rw-r--r--; ``readonly`` drops the write bits, ``private`` the group's and others'
_MODE = stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH


def _name(exc: BaseException, path: Path) -> None:
    """Give a failed write (disk full, quota) the path it was for, so its one-line message names it."""
    if isinstance(exc, OSError) and exc.filename is None:
        exc.filename = str(path)


class AtomicFile:
    """A temporary file beside ``path``, open for binary writing as ``file``.

    ``commit`` syncs it and renames it over ``path``; ``discard`` removes it and leaves
    ``path`` as it was. Either may be called once; after ``commit`` ``discard`` does nothing.
    """

    def __init__(self, path: Path, readonly: bool = False, private: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.mode = (
            _MODE & ~(stat.S_IWUSR if readonly else 0) & ~(stat.S_IRGRP | stat.S_IROTH if private else 0)
        )
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        self.tmp = Path(tmp)
        self.file: BinaryIO = os.fdopen(fd, "wb")
        self.done = False

    def commit(self) -> None:
        try:
            if self.file.closed:  # closed by the writer it was handed to (Arrow's, say)
                with open(self.tmp, "rb") as fh:
                    os.fsync(fh.fileno())
            else:
                self.file.flush()
                os.fsync(self.file.fileno())
                self.file.close()
            os.chmod(self.tmp, self.mode)
            os.replace(self.tmp, self.path)
        except BaseException as exc:
            self.discard()
            _name(exc, self.path)
            raise
        self.done = True

    def discard(self) -> None:
        if self.done:
            return
        self.file.close()
        self.tmp.unlink(missing_ok=True)
        self.done = True


@contextmanager
def atomic_open(path: Path, readonly: bool = False, private: bool = False) -> Iterator[BinaryIO]:
    """A binary file handle whose content replaces ``path`` when the block ends without an error.

    For writers that stream (downloads, Parquet): nothing is held in memory, and an error
    or interruption inside the block leaves ``path`` untouched and no temporary file behind.
    """
    atomic = AtomicFile(path, readonly=readonly, private=private)
    try:
        yield atomic.file
    except BaseException as exc:
        atomic.discard()
        _name(exc, atomic.path)
        raise
    atomic.commit()


def atomic_write(path: Path, data: bytes | str, readonly: bool = False, private: bool = False) -> None:
    """Write ``data`` (str as UTF-8) to ``path`` atomically; ``private`` keeps it to its owner (secrets)."""
    with atomic_open(path, readonly=readonly, private=private) as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
