"""One writer at a time per mutable store: an advisory lock file naming its holder.

Two copies of a command on the same store (two pushes to one Label Studio project, two
builds of one dataset, two ingests into one corpus) would each believe they own it. Each
such command holds :func:`lock` on the store's lock file for as long as it writes. The lock
is an ``flock``: the kernel drops it when the holding process dies however it dies, so a
stale lock from a killed run is simply taken over, never cleaned up by hand. The file keeps
the holder's PID and command line, for the message the second copy prints.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from core.errors import NewslabError

#: seconds a command waits for a held lock before refusing; NEWSLAB_LOCK_WAIT overrides
DEFAULT_WAIT = 0.0
_POLL = 0.2

_held: dict[str, int] = {}  # lock path -> depth, for re-entry within one process
_guard = threading.Lock()


class Busy(NewslabError):
    """The store is being written by another process."""


def holder(path: Path) -> dict:
    """What the lock file says about its (last) holder: pid, command, host, since. {} if unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def _current_holder(path: Path, patience: float = 2.0) -> dict:
    """The holder's record, waiting briefly for it: a holder that has just taken the lock may not
    have written its PID yet."""
    deadline = time.monotonic() + patience
    while not (info := holder(path)).get("pid") and time.monotonic() < deadline:
        time.sleep(0.02)
    return info


def _describe(info: dict) -> str:
    if not info:
        return "another process"
    where = f" on {info['host']}" if info.get("host") and info["host"] != socket.gethostname() else ""
    return f"PID {info.get('pid', '?')}{where} ({info.get('command', '?')}, since {info.get('since', '?')})"


def _wait_seconds(wait: float | None) -> float:
    if wait is not None:
        return wait
    try:
        return float(os.environ.get("NEWSLAB_LOCK_WAIT", DEFAULT_WAIT))
    except ValueError:
        return DEFAULT_WAIT


@contextmanager
def lock(path: Path, what: str, wait: float | None = None) -> Iterator[None]:
    """Hold the lock at ``path`` while the block runs; ``what`` names the store in messages.

    Waits up to ``wait`` seconds (default NEWSLAB_LOCK_WAIT, else 0) for another holder, then
    raises :class:`Busy` naming that holder's PID and command. Re-entrant within a process.
    """
    path = Path(path)
    key = str(path.resolve())
    with _guard:
        if _held.get(key):
            _held[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                _held[key] -= 1
        return

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise NewslabError(f"{path}: cannot create the lock for {what} ({exc.strerror or exc}).") from None
    deadline = time.monotonic() + _wait_seconds(wait)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                if time.monotonic() >= deadline:
                    raise Busy(
                        f"{what} is in use by {_describe(_current_holder(path))}.",
                        f"Wait for it to finish (or stop it) and run again; the lock is {path}.",
                    ) from None
                time.sleep(_POLL)
        info = {
            "pid": os.getpid(),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "python",
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        data = json.dumps(info).encode()
        os.pwrite(fd, data, 0)  # then cut the old holder's longer tail: never an empty file
        os.ftruncate(fd, len(data))
        with _guard:
            _held[key] = 1
        try:
            yield
        finally:
            with _guard:
                _held.pop(key, None)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def is_locked(path: Path) -> bool:
    """Whether some process holds the lock at ``path`` now (a test, not a reservation)."""
    path = Path(path)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
