"""Local server processes: is one alive, is a port free, does a server answer, where is a tool.

Label Studio (``annotation/server.py``) and the team stack (``newslab/team``) start servers in the
background and find them again from a state file; these are the checks both make.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
from pathlib import Path

import httpx

from core.errors import NewslabError


def alive(pid: int | None) -> bool:
    """Whether process ``pid`` runs (an exited child of ours is reaped first; a zombie is not alive)."""
    if not pid:
        return False
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):  # exited, not yet reaped by whoever adopted it
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def healthy(url: str, timeout: float = 2.0) -> bool:
    """Whether the server at ``url`` answers its ``/health`` with 200."""
    try:
        return httpx.get(f"{url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def executable(name: str, what: str, hint: str) -> str:
    """The command ``name`` of this environment (beside the interpreter), else on the PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise NewslabError(f"{what} is not installed in this environment.", hint)
    return found
