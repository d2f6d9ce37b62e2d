"""External data: a manifest of files with checksums, fetched into ``data/raw``.

Each file comes from the local mirror when it has it, else from its upstream URL.
The sha256 must match the manifest or the file is refused; fetched files are
read-only and never overwritten. Fetching again is a no-op.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from core.errors import NewslabError
from core.settings import Settings, get_settings
from core.yamlio import load_model

CHUNK = 1 << 20


class AssetFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(description="path relative to the mirror directory")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    url: str | None = None
    dest: str | None = Field(default=None, description="file name under data/raw/<asset>/")

    @property
    def name(self) -> str:
        return self.dest or Path(self.path).name


class Asset(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str
    licence: str
    upstream: str | None = None
    files: tuple[AssetFile, ...] = Field(min_length=1)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    assets: tuple[Asset, ...]

    def get(self, name: str) -> Asset:
        for asset in self.assets:
            if asset.name == name:
                return asset
        known = ", ".join(a.name for a in self.assets)
        raise NewslabError(f"unknown asset {name!r}; the manifest lists: {known}.")


@dataclass(frozen=True)
class FetchResult:
    asset: str
    file: str
    path: Path
    status: str  # "present", "copied" or "downloaded"


def load_manifest(path: Path | None = None) -> Manifest:
    return load_model(path or get_settings().assets_manifest, Manifest)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def asset_dir(asset: str, settings: Settings | None = None) -> Path:
    return (settings or get_settings()).raw_dir / asset


def asset_path(asset: str, file: str, settings: Settings | None = None) -> Path:
    """Where a fetched file lives; a clear error if it has not been fetched."""
    path = asset_dir(asset, settings) / file
    if not path.is_file():
        raise NewslabError(f"{path}: asset file missing.", f"Run `newslab assets fetch {asset}` first.")
    return path


def _copy_verified(
    read: Callable[[], bytes],
    dest: Path,
    expected: str,
    origin: str,
    advance: Callable[[int], None] | None,
) -> None:
    """Stream chunks into a temp file next to ``dest``; rename only if the hash matches."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := read():
                digest.update(chunk)
                out.write(chunk)
                if advance:
                    advance(len(chunk))
        actual = digest.hexdigest()
        if actual != expected:
            raise NewslabError(
                f"{origin}: checksum mismatch (sha256 {actual}, the manifest expects {expected}).",
                "The file was refused and nothing was written. Check the source, or update "
                "assets.yaml if the upstream file legitimately changed.",
            )
        os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def fetch_file(
    asset: Asset,
    file: AssetFile,
    settings: Settings | None = None,
    advance: Callable[[int], None] | None = None,
) -> FetchResult:
    settings = settings or get_settings()
    dest = asset_dir(asset.name, settings) / file.name
    if dest.exists():
        actual = sha256_of(dest)
        if actual != file.sha256:
            raise NewslabError(
                f"{dest}: checksum mismatch (sha256 {actual}, the manifest expects {file.sha256}).",
                "Raw data is never overwritten: delete the file and fetch it again.",
            )
        return FetchResult(asset.name, file.name, dest, "present")

    mirror = settings.mirror_dir
    source = mirror / file.path if mirror else None
    if source is not None and source.is_file():
        with open(source, "rb") as fh:
            _copy_verified(lambda: fh.read(CHUNK), dest, file.sha256, str(source), advance)
        return FetchResult(asset.name, file.name, dest, "copied")

    if file.url:
        _download(file.url, dest, file.sha256, advance)
        return FetchResult(asset.name, file.name, dest, "downloaded")

    where = f"the mirror {mirror}" if mirror else "no mirror (NEWSLAB_MIRROR_DIR is unset)"
    raise NewslabError(
        f"assets.yaml: asset {asset.name!r}, file {file.path!r}: not found in {where}, "
        "and the manifest gives no upstream URL.",
        "Point NEWSLAB_MIRROR_DIR at a directory that holds it (e.g. ../shared).",
    )


def _download(url: str, dest: Path, expected: str, advance: Callable[[int], None] | None) -> None:
    import httpx

    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as response:
            response.raise_for_status()
            chunks = response.iter_bytes(CHUNK)
            _copy_verified(lambda: next(chunks, b""), dest, expected, url, advance)
    except httpx.HTTPError as exc:
        raise NewslabError(
            f"{url}: download failed ({exc}).",
            "Check the network, or set NEWSLAB_MIRROR_DIR to a local copy of the data.",
        ) from None


def source_size(file: AssetFile, settings: Settings | None = None) -> int | None:
    mirror = (settings or get_settings()).mirror_dir
    if mirror and (mirror / file.path).is_file():
        return (mirror / file.path).stat().st_size
    return None


def fetch(
    names: list[str] | None = None,
    settings: Settings | None = None,
    manifest: Manifest | None = None,
) -> list[FetchResult]:
    """Fetch the named assets (all when ``names`` is empty) into ``data/raw``."""
    from core.console import progress

    settings = settings or get_settings()
    manifest = manifest or load_manifest(settings.assets_manifest)
    assets = [manifest.get(n) for n in names] if names else list(manifest.assets)
    results: list[FetchResult] = []
    with progress() as bar:
        for asset in assets:
            for file in asset.files:
                task = bar.add_task(f"{asset.name}/{file.name}", total=source_size(file, settings))
                results.append(fetch_file(asset, file, settings, lambda n, t=task: bar.advance(t, n)))
                bar.remove_task(task)
    return results


def verify(settings: Settings | None = None, manifest: Manifest | None = None) -> dict[str, str]:
    """Check every fetched file against the manifest: ``{path: ok|missing|mismatch}``."""
    settings = settings or get_settings()
    manifest = manifest or load_manifest(settings.assets_manifest)
    report: dict[str, str] = {}
    for asset in manifest.assets:
        for file in asset.files:
            path = asset_dir(asset.name, settings) / file.name
            if not path.exists():
                report[str(path)] = "missing"
            else:
                report[str(path)] = "ok" if sha256_of(path) == file.sha256 else "mismatch"
    return report
