"""Atomic writes: a file is either the old one or the whole new one, never a part."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes | str, readonly: bool = False) -> None:
    """Write ``data`` to a temporary file beside ``path``, sync it, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        mode = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
        os.chmod(tmp, mode if readonly else mode | stat.S_IWUSR)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
