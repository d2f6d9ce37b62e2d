"""Local source files are immutable too: their sha256 is recorded at the first build and checked after.

An asset's files are pinned by ``assets.yaml``; a file a researcher points a
dataset config at (``table.files``) has no manifest entry, so its hash goes to
``data/datasets/.locks/<name>.json`` after the first successful build. A later
build of a changed file is refused, naming the file and both hashes, unless the
change is accepted deliberately (``newslab dataset build NAME --accept-changes``,
or deleting the lock entry); the lock is then updated. A saved dataset folder is
hashed as a whole: every file's path and sha256.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.assets import sha256_of
from core.errors import NewslabError
from core.files import atomic_write
from core.settings import Settings, get_settings

LOCKS = ".locks"


def lock_path(name: str, settings: Settings | None = None) -> Path:
    return (settings or get_settings()).datasets_dir / LOCKS / f"{name}.json"


def content_hash(path: Path) -> tuple[str, int]:
    """sha256 and size of a file, or of a folder's files (their relative paths and hashes)."""
    if not path.is_dir():
        return sha256_of(path), path.stat().st_size
    digest, size = hashlib.sha256(), 0
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path).as_posix()}\0{sha256_of(file)}\n".encode())
        size += file.stat().st_size
    return digest.hexdigest(), size


@dataclass(frozen=True)
class Checked:
    """The hashes of a build's local sources, checked against the lock; ``record`` after the build."""

    lock: Path
    dataset: str
    entries: dict[str, dict]

    def record(self) -> bool:
        """Write the lock (only when it changes); True when written."""
        data = {"dataset": self.dataset, "files": self.entries}
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        if self.lock.is_file() and self.lock.read_text(encoding="utf-8") == text:
            return False
        atomic_write(self.lock, text)
        return True


def check(dataset: str, paths: list[Path], lock: Path, accept_changes: bool = False) -> Checked:
    """Hash ``paths`` and refuse one that differs from the hash the lock recorded for it.

    Missing paths are left to the importer, which names them.
    """
    recorded = _read(lock).get("files", {})
    entries: dict[str, dict] = {}
    for path in paths:
        if not path.exists():
            continue
        key = str(path.resolve())
        sha256, size = content_hash(path)
        before = recorded.get(key)
        if before and before.get("sha256") == sha256:
            entries[key] = before
            continue
        if before and not accept_changes:
            raise NewslabError(
                f"{path}: changed since dataset {dataset!r} was first built from it "
                f"(sha256 recorded {before.get('sha256')}, now {sha256}).",
                "Source files are never edited: put new data in a new file and point the config at it, "
                f"or accept this change deliberately with `newslab dataset build {dataset} --accept-changes` "
                f"(or delete its entry in {lock}).",
            )
        entries[key] = {"sha256": sha256, "bytes": size, "recorded": datetime.now(UTC).isoformat()}
    return Checked(lock, dataset, entries)


def _read(lock: Path) -> dict:
    if not lock.is_file():
        return {}
    try:
        data = json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise NewslabError(
            f"{lock}: unreadable lock file ({exc}).", "Delete it to record the current files again."
        ) from None
    return data if isinstance(data, dict) else {}
