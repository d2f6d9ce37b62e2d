from __future__ import annotations

import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import yaml

from core import assets
from core.errors import NewslabError
from core.settings import Settings, get_settings
from tests.conftest import run_cli

CONTENT = b"Body ID,articleBody\n0,hello\n"
SHA = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture()
def mirror_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A mirror with one file and a manifest that lists it (plus one URL-only file)."""
    mirror = tmp_path / "mirror"
    (mirror / "bench").mkdir(parents=True)
    (mirror / "bench" / "a.csv").write_bytes(CONTENT)
    manifest = {
        "assets": [
            {
                "name": "demo",
                "description": "d",
                "licence": "l",
                "files": [{"path": "bench/a.csv", "sha256": SHA}],
            },
        ]
    }
    (tmp_path / "assets.yaml").write_text(yaml.safe_dump(manifest))
    monkeypatch.setenv("NEWSLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSLAB_MIRROR_DIR", str(mirror))
    monkeypatch.setenv("NEWSLAB_ASSETS_MANIFEST", str(tmp_path / "assets.yaml"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_fetch_copies_from_mirror_verifies_and_is_idempotent(mirror_settings: Settings) -> None:
    [result] = assets.fetch()
    assert result.status == "copied"
    assert result.path.read_bytes() == CONTENT
    assert (result.path.stat().st_mode & 0o222) == 0  # read-only: raw data is never edited
    [again] = assets.fetch()
    assert again.status == "present"
    assert assets.verify() == {str(result.path): "ok"}


def test_mirror_checksum_mismatch_is_refused_and_writes_nothing(mirror_settings: Settings) -> None:
    (mirror_settings.mirror_dir / "bench" / "a.csv").write_bytes(b"tampered\n")
    with pytest.raises(NewslabError) as err:
        assets.fetch()
    assert "checksum mismatch" in err.value.message
    assert str(mirror_settings.mirror_dir / "bench" / "a.csv") in err.value.message
    demo_dir = mirror_settings.raw_dir / "demo"
    assert not demo_dir.exists() or list(demo_dir.iterdir()) == []


def test_fetched_file_that_changed_is_not_overwritten(mirror_settings: Settings) -> None:
    [result] = assets.fetch()
    os.chmod(result.path, 0o644)
    result.path.write_bytes(b"edited by hand\n")
    with pytest.raises(NewslabError, match="never overwritten"):
        assets.fetch()
    assert result.path.read_bytes() == b"edited by hand\n"
    assert assets.verify() == {str(result.path): "mismatch"}


def test_missing_asset_without_url_names_the_file(mirror_settings: Settings) -> None:
    (mirror_settings.mirror_dir / "bench" / "a.csv").unlink()
    with pytest.raises(NewslabError) as err:
        assets.fetch(["demo"])
    assert "bench/a.csv" in err.value.message and "no upstream URL" in err.value.message


def test_unknown_asset_name(mirror_settings: Settings) -> None:
    with pytest.raises(NewslabError, match="unknown asset 'nope'"):
        assets.fetch(["nope"])


def test_asset_path_of_unfetched_file_says_what_to_run(mirror_settings: Settings) -> None:
    with pytest.raises(NewslabError, match="newslab assets fetch demo"):
        assets.asset_path("demo", "a.csv")


@pytest.fixture()
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a temp directory."""
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[assignment]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()


def _url_manifest(tmp_path: Path, url: str, sha: str) -> None:
    manifest = {
        "assets": [
            {
                "name": "web",
                "description": "d",
                "licence": "l",
                "files": [{"path": "not/in/mirror.csv", "sha256": sha, "url": url}],
            }
        ]
    }
    (tmp_path / "assets.yaml").write_text(yaml.safe_dump(manifest))


def test_url_is_used_when_the_mirror_lacks_the_file(
    mirror_settings: Settings, http_root: tuple[str, Path], tmp_path: Path
) -> None:
    base, root = http_root
    (root / "a.csv").write_bytes(CONTENT)
    _url_manifest(tmp_path, f"{base}/a.csv", SHA)
    [result] = assets.fetch()
    assert result.status == "downloaded"
    assert result.path.read_bytes() == CONTENT


def test_url_checksum_mismatch_is_refused(
    mirror_settings: Settings, http_root: tuple[str, Path], tmp_path: Path
) -> None:
    base, root = http_root
    (root / "a.csv").write_bytes(b"something else\n")
    _url_manifest(tmp_path, f"{base}/a.csv", SHA)
    with pytest.raises(NewslabError, match="checksum mismatch"):
        assets.fetch()
    assert not (mirror_settings.raw_dir / "web" / "mirror.csv").exists()


def test_url_that_fails_gives_a_clear_error(
    mirror_settings: Settings, http_root: tuple[str, Path], tmp_path: Path
) -> None:
    base, _ = http_root
    _url_manifest(tmp_path, f"{base}/missing.csv", SHA)
    with pytest.raises(NewslabError, match="download failed"):
        assets.fetch()


def test_project_manifest_matches_the_mirror(shared: Path) -> None:
    """Every file of the real manifest is in ../shared with the declared sha256."""
    manifest = assets.load_manifest()
    for asset in manifest.assets:
        for file in asset.files:
            assert assets.sha256_of(shared / file.path) == file.sha256, file.path


def test_cli_checksum_mismatch_and_missing_asset(mirror_settings: Settings, tmp_path: Path) -> None:
    env = {k: os.environ[k] for k in ("NEWSLAB_DATA_DIR", "NEWSLAB_MIRROR_DIR", "NEWSLAB_ASSETS_MANIFEST")}
    (mirror_settings.mirror_dir / "bench" / "a.csv").write_bytes(b"tampered\n")
    result = run_cli("assets", "fetch", env=env)
    assert result.returncode == 1
    assert "checksum mismatch" in result.stderr and "a.csv" in result.stderr
    assert "Traceback" not in result.stderr
    (mirror_settings.mirror_dir / "bench" / "a.csv").unlink()
    result = run_cli("assets", "fetch", env=env)
    assert result.returncode == 1 and "not found in the mirror" in result.stderr
    assert "Traceback" not in result.stderr
