"""Walking an input folder: every file in order, and a Reject for what cannot be walked.

A folder that cannot be listed, a broken link and a symlink loop used to vanish from
the input without a word (or, for a loop, hang the walk); each is now a Reject naming
it. Linked folders are followed once; hidden files and folders are skipped.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

from corpus.records import Reject


def _why(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    return f"unreadable: {exc.strerror or exc}"


def walk(root: Path) -> Iterator[Path | Reject]:
    """The files under ``root`` in sorted order (as paths under ``root``), and Rejects for the rest."""
    try:
        st = os.stat(root)
    except OSError as exc:
        yield Reject(str(root), 0, _why(exc))
        return
    yield from _walk(Path(root), [(st.st_dev, st.st_ino)], set())


def _walk(
    folder: Path, ancestors: list[tuple[int, int]], seen: set[tuple[int, int]]
) -> Iterator[Path | Reject]:
    seen.add(ancestors[-1])
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield Reject(str(folder), 0, _why(exc))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = folder / entry.name
        try:
            is_dir = entry.is_dir()  # follows links
            st = entry.stat() if is_dir else None
            if not is_dir and not entry.is_file():
                if entry.is_symlink():
                    os.stat(path)  # raises for a broken link or a loop
                yield Reject(str(path), 0, "not a regular file")
                continue
        except OSError as exc:
            yield Reject(str(path), 0, "broken symlink" if exc.errno == errno.ENOENT else _why(exc))
            continue
        if st is None:
            yield path
            continue
        node = (st.st_dev, st.st_ino)
        if node in ancestors:
            yield Reject(str(path), 0, "symlink loop")
        elif node in seen:
            yield Reject(str(path), 0, "folder already read through another link")
        else:
            yield from _walk(path, [*ancestors, node], seen)
