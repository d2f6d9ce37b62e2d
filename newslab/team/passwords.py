"""The stack's passwords and token: generated once, kept in ``data/team/secrets.json`` (0600)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

#: what the stack needs: PostgreSQL superuser, one role per service, Label Studio's admin and token
#: and Django's SECRET_KEY for Label Studio, so that its sessions outlive a restart
NAMES = ("postgres", "ls", "mlflow", "optuna", "ls_admin", "ls_secret_key")


def load(path: Path) -> dict[str, str]:
    """The secrets at ``path``, made (and any missing one added) on first use; the file stays 0600."""
    kept: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in (*NAMES, "ls_token") if name not in kept]
    if not missing:
        return kept
    for name in missing:
        kept[name] = secrets.token_hex(20) if name == "ls_token" else secrets.token_urlsafe(18)
    write_private(path, json.dumps(kept, indent=1))
    return kept


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (made 0600 before a byte is written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
    os.chmod(path, 0o600)
