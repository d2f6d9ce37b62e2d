"""External data: a manifest of files with checksums, fetched into ``data/raw``.

Each file comes from the local mirror when it has it, else from its upstream URL, else
(an asset with a ``derive`` step) it is made by newslab's own code from the asset's upstream
``sources``, themselves taken from the mirror or downloaded. Every sha256 must match the
manifest, the derived file's too (a derivation that drifts is refused); fetched files are
read-only and never overwritten. Fetching again is a no-op.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.errors import NewslabError, Unavailable
from core.files import atomic_open, atomic_write
from core.settings import Settings, get_settings
from core.yamlio import load_model

if TYPE_CHECKING:
    from rich.progress import Progress

CHUNK = 1 << 20
#: where an asset's upstream sources are kept, under data/raw/<asset>/
UPSTREAM = "upstream"


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
    #: the derive step (a module of core/derive) that makes the asset's one file from ``sources``
    derive: str | None = None
    #: upstream files at a pinned commit, read by ``derive``
    sources: tuple[AssetFile, ...] = ()
    files: tuple[AssetFile, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _derivation(self) -> Asset:
        if self.sources and not self.derive:
            raise ValueError("`sources` are only read by a `derive` step; name one")
        if self.derive and (not self.sources or len(self.files) != 1):
            raise ValueError("a `derive` step needs `sources` and makes exactly one file")
        return self


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
    status: str  # "present", "copied", "downloaded" or "derived"


@dataclass
class FetchReport:
    """What ``fetch_available`` got, and why each asset it could not get is missing."""

    results: list[FetchResult] = field(default_factory=list)
    #: asset -> why it cannot be had here (no source, network down): a job may do without it
    unavailable: dict[str, str] = field(default_factory=dict)
    #: asset -> why it was refused (checksum mismatch, drifted derivation): a fault in the data
    failed: dict[str, str] = field(default_factory=dict)


def load_manifest(path: Path | None = None) -> Manifest:
    from core import derive

    path = path or get_settings().assets_manifest
    manifest = load_model(path, Manifest)
    for asset in manifest.assets:
        if asset.derive:
            try:
                derive.get(asset.derive)
            except NewslabError as exc:
                raise NewslabError(f"{path}: asset {asset.name!r}: {exc.message}") from None
    return manifest


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
    with atomic_open(dest, readonly=True) as out:
        while chunk := read():
            digest.update(chunk)
            out.write(chunk)
            if advance:
                advance(len(chunk))
        actual = digest.hexdigest()
        if actual != expected:  # raised inside the block: the file is discarded
            raise NewslabError(
                f"{origin}: checksum mismatch (sha256 {actual}, the manifest expects {expected}).",
                "The file was refused and nothing was written. Check the source, or update "
                "assets.yaml if the upstream file legitimately changed.",
            )


class _Meter:
    """One file's line in the progress display, sized once the size is known."""

    def __init__(self, bar: Progress | None, description: str) -> None:
        self.bar = bar
        self.task = bar.add_task(description, total=None) if bar else None

    def start(self, total: int | None) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.reset(self.task, total=total)

    def advance(self, n: int) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.advance(self.task, n)

    def close(self) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.remove_task(self.task)


def upstream_url(url: str, settings: Settings | None = None) -> str:
    """The address a file is downloaded from: ``url``, or its path under ``upstream_base_url``
    when that setting is set (a proxy, an internal copy of the upstream hosts, a test server)."""
    base = (settings or get_settings()).upstream_base_url.rstrip("/")
    if not base:
        return url
    parts = urlsplit(url)
    return base + parts.path + (f"?{parts.query}" if parts.query else "")


def repo_path(file: AssetFile) -> str:
    """A source's path in its upstream repository (a raw GitHub URL's part after the commit),
    which derived records name as their ``source_file``."""
    parts = urlsplit(file.url or "")
    segments = parts.path.split("/")
    if parts.netloc == "raw.githubusercontent.com" and len(segments) > 4:
        return unquote("/".join(segments[4:]))
    return file.name


def _obtain(
    asset: Asset,
    file: AssetFile,
    dest: Path,
    settings: Settings,
    bar: Progress | None,
    make: Callable[[], None] | None = None,
) -> str:
    """Put ``file`` at ``dest``: present, copied from the mirror, made by ``make`` or downloaded."""
    if dest.exists():
        actual = sha256_of(dest)
        if actual != file.sha256:
            raise NewslabError(
                f"{dest}: checksum mismatch (sha256 {actual}, the manifest expects {file.sha256}).",
                "Raw data is never overwritten: delete the file and fetch it again.",
            )
        return "present"
    mirror = settings.mirror_dir
    source = mirror / file.path if mirror else None
    if source is not None and source.is_file():
        meter = _Meter(bar, f"{asset.name}/{file.name}")
        meter.start(source.stat().st_size)
        try:
            with open(source, "rb") as fh:
                _copy_verified(lambda: fh.read(CHUNK), dest, file.sha256, str(source), meter.advance)
        finally:
            meter.close()
        return "copied"
    if make is not None:
        make()
        return "derived"
    if file.url:
        meter = _Meter(bar, f"{asset.name}/{file.name}")
        _download(upstream_url(file.url, settings), dest, file.sha256, meter)
        return "downloaded"
    where = f"the mirror {mirror}" if mirror else "no mirror (NEWSLAB_MIRROR_DIR is unset)"
    raise Unavailable(
        f"assets.yaml: asset {asset.name!r}, file {file.path!r}: not found in {where}, "
        "and the manifest gives no upstream URL.",
        "Point NEWSLAB_MIRROR_DIR at a directory that holds it (e.g. ../shared).",
    )


def _derive(asset: Asset, file: AssetFile, dest: Path, settings: Settings, bar: Progress | None) -> None:
    """Fetch the asset's sources, run its derive step and keep the result only if its sha256 is the
    manifest's."""
    from core import derive
    from core.console import err_console

    step = derive.get(str(asset.derive))
    sources = []
    for src in asset.sources:
        path = asset_dir(asset.name, settings) / UPSTREAM / src.name
        _obtain(asset, src, path, settings, bar)
        sources.append(derive.Source(path, repo_path(src)))
    err_console.print(f"deriving {asset.name}/{file.name} from {len(sources)} upstream files ({step.name})")
    data = step.run(sources)
    actual = hashlib.sha256(data).hexdigest()
    if actual != file.sha256:
        raise NewslabError(
            f"assets.yaml: asset {asset.name!r}: the derive step {step.name!r} made {file.name} with "
            f"sha256 {actual}, the manifest expects {file.sha256}: the derivation drifted.",
            "Nothing was written. Fix the derive step (core/derive/), or record the new sha256 in "
            "assets.yaml if the change is meant.",
        )
    atomic_write(dest, data, readonly=True)


def fetch_file(
    asset: Asset,
    file: AssetFile,
    settings: Settings | None = None,
    bar: Progress | None = None,
) -> FetchResult:
    settings = settings or get_settings()
    dest = asset_dir(asset.name, settings) / file.name
    make = (lambda: _derive(asset, file, dest, settings, bar)) if asset.derive else None
    return FetchResult(asset.name, file.name, dest, _obtain(asset, file, dest, settings, bar, make))


def _download(url: str, dest: Path, expected: str, meter: _Meter) -> None:
    from core import download

    def consume(read: Callable[[], bytes], size: int | None) -> None:
        meter.start(size)
        _copy_verified(read, dest, expected, url, meter.advance)

    try:
        download.get(url, consume)
    finally:
        meter.close()


def _selected(names: Iterable[str] | None, manifest: Manifest) -> list[Asset]:
    names = list(names or [])
    return [manifest.get(n) for n in names] if names else list(manifest.assets)


def fetch(
    names: list[str] | None = None,
    settings: Settings | None = None,
    manifest: Manifest | None = None,
) -> list[FetchResult]:
    """Fetch the named assets (all when ``names`` is empty) into ``data/raw``."""
    from core.console import progress

    settings = settings or get_settings()
    manifest = manifest or load_manifest(settings.assets_manifest)
    results: list[FetchResult] = []
    with progress() as bar:
        for asset in _selected(names, manifest):
            results += [fetch_file(asset, file, settings, bar) for file in asset.files]
    return results


def ensure(name: str, settings: Settings | None = None) -> Path:
    """The folder of an asset, with the files it lacks fetched (those there were verified when they
    were fetched): what commands that read an asset call, so a fresh machine needs no separate step."""
    from core.console import progress

    settings = settings or get_settings()
    asset = load_manifest(settings.assets_manifest).get(name)
    folder = asset_dir(name, settings)
    missing = [f for f in asset.files if not (folder / f.name).is_file()]
    if missing:
        with progress() as bar:
            for file in missing:
                fetch_file(asset, file, settings, bar)
    return folder


def fetch_available(
    names: list[str] | None = None,
    settings: Settings | None = None,
    manifest: Manifest | None = None,
) -> FetchReport:
    """Fetch what can be had, asset by asset: one that cannot be had or is refused is reported, not
    raised, so a job can go on with the others; the caller decides what a refusal means."""
    settings = settings or get_settings()
    manifest = manifest or load_manifest(settings.assets_manifest)
    report = FetchReport()
    for asset in _selected(names, manifest):
        try:
            report.results += fetch([asset.name], settings, manifest)
        except Unavailable as exc:
            report.unavailable[asset.name] = exc.message
        except NewslabError as exc:
            report.failed[asset.name] = exc.message
    return report


def verify(settings: Settings | None = None, manifest: Manifest | None = None) -> dict[str, str]:
    """Check every fetched file against the manifest: ``{path: ok|missing|mismatch}`` (the upstream
    sources of derived files too, when they were downloaded)."""
    settings = settings or get_settings()
    manifest = manifest or load_manifest(settings.assets_manifest)
    report: dict[str, str] = {}
    for asset in manifest.assets:
        folder = asset_dir(asset.name, settings)
        sources = [(folder / UPSTREAM / f.name, f) for f in asset.sources]
        for path, file in [(folder / f.name, f) for f in asset.files] + [s for s in sources if s[0].exists()]:
            if not path.exists():
                report[str(path)] = "missing"
            else:
                report[str(path)] = "ok" if sha256_of(path) == file.sha256 else "mismatch"
    return report
