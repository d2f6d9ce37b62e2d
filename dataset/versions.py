"""Immutable dataset version folders: one writer at a time, file checksums, pruning by creation order.

``data/datasets/.versions/<name>/<digest>/`` holds a version; ``data/datasets/<name>`` is a link to
the current one. A build holds ``.versions/<name>/.lock`` (:func:`core.locks.lock`), so a second
build of the same dataset refuses instead of deleting the first one's temporary folder. Each
version's top ``newslab.json`` records the size and sha256 of every other file (``files``) and when
it was made (``created``): loading checks them, so a damaged file is named instead of passing as
"(unchanged)" and crashing training; pruning keeps versions by that record, not by mtime.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.errors import NewslabError
from core.locks import lock

META_FILE = "newslab.json"
VERSIONS = ".versions"
LOCK_FILE = ".lock"
KEEP_VERSIONS = 2  #: the current version and the one before it
DIR_MODE, FILE_MODE = 0o755, 0o644  #: published folders are read by everyone, written by the builder


@dataclass(frozen=True)
class FileCheck:
    path: str  #: relative to the version folder
    status: str  #: ok, missing, size differs, sha256 differs, not recorded
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def versions_dir(dest: Path) -> Path:
    return dest.parent / VERSIONS / dest.name


def build_lock(dest: Path):  # type: ignore[no-untyped-def]
    """The lock a build of ``dest`` holds from reading its sources to pruning old versions."""
    return lock(versions_dir(dest) / LOCK_FILE, f"dataset {dest.name}")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(folder: Path) -> list[Path]:
    found = (p for p in folder.rglob("*") if p.is_file())
    return sorted(p for p in found if p.relative_to(folder).as_posix() != META_FILE)


def record_files(folder: Path) -> None:
    """Add ``files`` (size, sha256 of every file) and ``created`` to the folder's top meta; set modes."""
    meta_path = folder / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["files"] = {
        p.relative_to(folder).as_posix(): {"size": p.stat().st_size, "sha256": sha256_file(p)}
        for p in _files(folder)
    }
    meta["created"] = datetime.now(UTC).isoformat(timespec="microseconds")
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    for path in [folder, *folder.rglob("*")]:  # mkdtemp makes 0700: published versions are 0755/0644
        os.chmod(path, DIR_MODE if path.is_dir() else FILE_MODE)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NewslabError(
            f"{path}: unreadable dataset meta ({exc}).", "Rebuild it: `newslab dataset build NAME`."
        ) from None
    if not isinstance(data, dict):
        raise NewslabError(f"{path}: unreadable dataset meta (not a JSON object).")
    return data


def version_root(path: Path) -> tuple[Path, str]:
    """The version folder holding ``path`` (a dataset or one of its configurations), and the prefix."""
    path = Path(path).resolve()
    own = path / META_FILE
    if own.is_file() and "files" in _read_json(own):
        return path, ""
    parent = path.parent / META_FILE
    if parent.is_file() and "files" in _read_json(parent):
        return path.parent, path.name + "/"
    return path, ""


def check_files(root: Path, prefix: str = "", full: bool = True) -> list[FileCheck]:
    """Every recorded file under ``prefix`` against its size and (with ``full``) its sha256."""
    meta_path = root / META_FILE
    recorded = _read_json(meta_path).get("files") if meta_path.is_file() else None
    if recorded is None:
        return [FileCheck(META_FILE, "not recorded", "built before versions recorded checksums")]
    out: list[FileCheck] = []
    for name, want in sorted(recorded.items()):
        if not name.startswith(prefix):
            continue
        path = root / name
        if not path.is_file():
            out.append(FileCheck(name, "missing"))
            continue
        size = path.stat().st_size
        if size != want["size"]:
            out.append(FileCheck(name, "size differs", f"{size:,} bytes, recorded {want['size']:,}"))
        elif full and sha256_file(path) != want["sha256"]:
            out.append(FileCheck(name, "sha256 differs", "same size, other content"))
        else:
            out.append(FileCheck(name, "ok"))
    return out


def ensure_intact(path: Path) -> None:
    """Refuse a dataset (or configuration) whose recorded files changed, naming the first bad one."""
    root, prefix = version_root(path)
    name = Path(path).parent.name if prefix else Path(path).name
    bad = [c for c in check_files(root, prefix) if c.status not in ("ok", "not recorded")]
    if bad:
        first = bad[0]
        raise NewslabError(
            f"{root / first.path}: {first.status}{f' ({first.detail})' if first.detail else ''}; the "
            f"dataset version {root.name} is corrupt ({len(bad)} damaged file(s)).",
            f"Rebuild it: `newslab dataset build {name}` "
            "(a build replaces a corrupt current version); `newslab dataset verify` lists every file.",
        )


def _intact(folder: Path) -> bool:
    checks = check_files(folder)
    return all(c.ok for c in checks)


def write_version(dest: Path, digest: str, write: Callable[[Path], None]) -> bool:
    """Write a version folder (unless an intact one has that content) and point ``dest`` at it atomically.

    Holds the dataset's build lock (re-entrant: a build already holds it). Returns False when ``dest``
    already pointed at this version, intact.
    """
    versions = versions_dir(dest)
    versions.mkdir(parents=True, exist_ok=True)
    with build_lock(dest):
        for stray in versions.glob(".*.tmp"):  # under the lock: only a killed build can have left these
            shutil.rmtree(stray, ignore_errors=True)
        final = versions / digest
        target = os.path.relpath(final, dest.parent)
        current = dest.is_symlink() and os.readlink(dest) == target
        rewritten = False
        if not ((final / META_FILE).is_file() and _intact(final)):
            _write_folder(versions, final, digest, write)
            rewritten = True
        if current and not rewritten:
            return False
        if dest.exists() and not dest.is_symlink():  # a folder of the layout before versions
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            os.replace(dest, versions / f"legacy-{stamp}")
        link = dest.with_name(f".{dest.name}.link.tmp")
        link.unlink(missing_ok=True)
        os.symlink(target, link)
        os.replace(link, dest)  # atomic: readers see the old version or the new one
        prune(versions, dest)
    return True


def _write_folder(versions: Path, final: Path, digest: str, write: Callable[[Path], None]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".{digest}.", suffix=".tmp", dir=versions))
    old = versions / f".{digest}.old.tmp"
    try:
        write(tmp)
        record_files(tmp)
        if final.exists():  # an incomplete folder of an older crash, or a corrupt one
            os.replace(final, old)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def created(folder: Path) -> str:
    """When the version was made, as recorded in its meta ("" for older versions: oldest first)."""
    meta = folder / META_FILE
    try:
        return str(json.loads(meta.read_text(encoding="utf-8")).get("created", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def prune(versions: Path, dest: Path, keep: int = KEEP_VERSIONS) -> list[Path]:
    """Remove all but the current version and the newest others (by recorded creation); returns them.

    Temporary folders (``.*.tmp``) are never versions, and the version ``dest`` links to is kept
    whatever its age.
    """
    current = (dest.parent / os.readlink(dest)).resolve() if dest.is_symlink() else None
    others = [
        p for p in versions.iterdir() if p.is_dir() and not p.name.startswith(".") and p.resolve() != current
    ]
    others.sort(key=lambda p: (created(p), p.name))
    doomed = others[: max(0, len(others) - (keep - 1))]
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return doomed


def verify_datasets(root: Path, names: Iterable[str] = ()) -> dict[str, list[FileCheck]]:
    """Dataset name -> the full check of every file of its current version (all datasets by default)."""
    wanted = list(names)
    if not wanted and root.is_dir():
        found = (p for p in root.iterdir() if not p.name.startswith("."))
        wanted = sorted(p.name for p in found if (p / META_FILE).is_file())
    out: dict[str, list[FileCheck]] = {}
    for name in wanted:
        path = root / name
        if not (path / META_FILE).is_file():
            raise NewslabError(f"{path}: no built dataset here.", "Run `newslab dataset build NAME` first.")
        out[name] = check_files(*version_root(path))
    return out
