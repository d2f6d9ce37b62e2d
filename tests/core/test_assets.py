from __future__ import annotations

import hashlib
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import yaml

from core import assets, download
from core.errors import NewslabError, Unavailable
from core.settings import Settings, get_settings
from tests.conftest import free_port, run_cli

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


def test_project_manifest_sources_match_the_mirror(shared: Path) -> None:
    """Upstream sources the mirror holds (Wikinews' CSVs) have the declared sha256; URLs are raw GitHub."""
    manifest = assets.load_manifest()
    for asset in manifest.assets:
        for file in asset.sources:
            if (shared / file.path).is_file():
                assert assets.sha256_of(shared / file.path) == file.sha256, file.path
            assert file.url and file.url.startswith("https://raw.githubusercontent.com/"), file.path
            assert " " not in file.url, file.url


WIKINEWS_COMMIT = "347254178bf343f3801aac1d03c41cc09c35decb"


@pytest.fixture()
def upstream(shared: Path, http_root: tuple[str, Path]) -> str:
    """The Wikinews upstream CSVs served under their raw-GitHub paths by a local HTTP server."""
    base, root = http_root
    folder = root / "vanatteveldt" / "wikinews" / WIKINEWS_COMMIT / "data"
    folder.mkdir(parents=True)
    for name in ("wikinews_2019.csv", "wikinews_2020.csv"):
        shutil.copyfile(shared / "corpus" / "wikinews_en" / "upstream" / name, folder / name)
    return base


@pytest.mark.slow
def test_assets_fetch_derives_wikinews_from_upstream_byte_identical(
    shared: Path, upstream: str, tmp_path: Path
) -> None:
    """Empty mirror, fresh data dir, upstream on 127.0.0.1: `assets fetch` downloads and derives."""
    (tmp_path / "empty").mkdir()
    env = {
        "NEWSLAB_DATA_DIR": str(tmp_path / "data"),
        "NEWSLAB_MIRROR_DIR": str(tmp_path / "empty"),
        "NEWSLAB_UPSTREAM_BASE_URL": upstream,
    }
    result = run_cli("assets", "fetch", "wikinews_en", env=env)
    assert result.returncode == 0, result.stderr
    assert "derived" in result.stdout
    derived = tmp_path / "data" / "raw" / "wikinews_en" / "articles.jsonl"
    assert derived.read_bytes() == (shared / "corpus" / "wikinews_en" / "articles.jsonl").read_bytes()
    assert (derived.stat().st_mode & 0o222) == 0
    assert sorted(p.name for p in (derived.parent / "upstream").iterdir()) == [
        "wikinews_2019.csv",
        "wikinews_2020.csv",
    ]


def _derive_manifest(tmp_path: Path, derived_sha: str) -> Path:
    """A manifest of one derived asset whose source the HTTP root serves; the source's path there."""
    csv_text = b'url,date,title,text\n"https://en.wikinews.org//wiki/A",2019-01-04,"A","One  two"\n'
    served = tmp_path / "www" / "o" / "r" / "abc" / "up" / "w 1.csv"
    served.parent.mkdir(parents=True, exist_ok=True)
    served.write_bytes(csv_text)
    source = {
        "path": "up/w 1.csv",
        "sha256": hashlib.sha256(csv_text).hexdigest(),
        "url": "https://raw.githubusercontent.com/o/r/abc/up/w%201.csv",
    }
    manifest = {
        "assets": [
            {
                "name": "news",
                "description": "d",
                "licence": "l",
                "derive": "wikinews_csv",
                "sources": [source],
                "files": [{"path": "news/articles.jsonl", "sha256": derived_sha}],
            }
        ]
    }
    (tmp_path / "assets.yaml").write_text(yaml.safe_dump(manifest))
    return served


DERIVED = (
    b'{"id": "wnen-A", "source": "en.wikinews.org (via github.com/vanatteveldt/wikinews)", '
    b'"source_file": "up/w 1.csv", "lang": "en", "url": "https://en.wikinews.org/wiki/A", "title": "A", '
    b'"date": "2019-01-04", "author": null, "categories": [], "tags": [], "text": "One two", "n_words": 2, '
    b'"license": "CC BY 2.5", "license_url": "https://creativecommons.org/licenses/by/2.5/", '
    b'"attribution": "\\"A\\", Wikinews, https://en.wikinews.org/wiki/A (CC BY 2.5)", "flags": []}\n'
)


@pytest.fixture()
def rewritten(mirror_settings: Settings, http_root: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NEWSLAB_UPSTREAM_BASE_URL", http_root[0])
    get_settings.cache_clear()
    return http_root[0]


def test_derived_asset_is_downloaded_and_derived(rewritten: str, tmp_path: Path) -> None:
    _derive_manifest(tmp_path, hashlib.sha256(DERIVED).hexdigest())
    [result] = assets.fetch(["news"])
    assert result.status == "derived"
    assert result.path.read_bytes() == DERIVED
    assert (result.path.parent / "upstream" / "w 1.csv").is_file()
    [again] = assets.fetch(["news"])
    assert again.status == "present"
    assert set(assets.verify().values()) == {"ok"} and len(assets.verify()) == 2  # the source too


def test_derivation_that_drifts_is_refused(rewritten: str, tmp_path: Path) -> None:
    _derive_manifest(tmp_path, "0" * 64)
    with pytest.raises(NewslabError, match="the derivation drifted") as err:
        assets.fetch(["news"])
    assert hashlib.sha256(DERIVED).hexdigest() in err.value.message
    assert not (get_settings().raw_dir / "news" / "articles.jsonl").exists()


def test_mirror_with_the_derived_or_the_upstream_file_downloads_nothing(
    mirror_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No server at all (the base URL a closed port): the mirror alone must do."""
    served = _derive_manifest(tmp_path, hashlib.sha256(DERIVED).hexdigest())
    mirror = mirror_settings.mirror_dir
    (mirror / "up").mkdir()
    shutil.copyfile(served, mirror / "up" / "w 1.csv")
    monkeypatch.setenv("NEWSLAB_UPSTREAM_BASE_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    [result] = assets.fetch(["news"])
    assert result.status == "derived" and result.path.read_bytes() == DERIVED
    (mirror / "news").mkdir()
    (mirror / "news" / "articles.jsonl").write_bytes(DERIVED)
    monkeypatch.setenv("NEWSLAB_DATA_DIR", str(tmp_path / "data2"))
    get_settings.cache_clear()
    [result] = assets.fetch(["news"])
    assert result.status == "copied"
    assert not (result.path.parent / "upstream").exists()


def test_network_down_is_retried_then_named(
    mirror_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "BACKOFF_S", 0.01)
    url = f"http://127.0.0.1:{free_port()}/a.csv"
    _url_manifest(tmp_path, url, SHA)
    with pytest.raises(Unavailable) as err:
        assets.fetch()
    assert url in err.value.message and f"after {download.RETRIES} attempts" in err.value.message
    assert "ConnectError" in err.value.message


def test_server_errors_are_retried_with_backoff(
    mirror_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two 503s, then the file: downloaded, after waits that double."""
    waits: list[float] = []
    monkeypatch.setattr(download.time, "sleep", waits.append)
    answers = iter([503, 503, 200])

    class Flaky(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code = next(answers)
            self.send_response(code)
            self.send_header("Content-Length", str(len(CONTENT) if code == 200 else 0))
            self.end_headers()
            if code == 200:
                self.wfile.write(CONTENT)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _url_manifest(tmp_path, f"http://127.0.0.1:{server.server_address[1]}/a.csv", SHA)
        [result] = assets.fetch()
    finally:
        server.shutdown()
    assert result.status == "downloaded" and result.path.read_bytes() == CONTENT
    assert waits == [download.BACKOFF_S, 2 * download.BACKOFF_S]


def test_fetch_available_reports_what_it_could_not_get(mirror_settings: Settings, tmp_path: Path) -> None:
    manifest = yaml.safe_load((tmp_path / "assets.yaml").read_text())
    manifest["assets"].append(
        {"name": "private", "description": "d", "licence": "l", "files": [{"path": "p/x.txt", "sha256": SHA}]}
    )
    (tmp_path / "assets.yaml").write_text(yaml.safe_dump(manifest))
    report = assets.fetch_available(["demo", "private"])
    assert [r.asset for r in report.results] == ["demo"]
    assert list(report.unavailable) == ["private"] and "p/x.txt" in report.unavailable["private"]
    assert report.failed == {}
    (mirror_settings.raw_dir / "demo" / "a.csv").chmod(0o644)
    (mirror_settings.raw_dir / "demo" / "a.csv").write_bytes(b"edited\n")
    report = assets.fetch_available(["demo", "private"])
    assert list(report.failed) == ["demo"] and "checksum mismatch" in report.failed["demo"]
    assert list(report.unavailable) == ["private"]


def test_a_derive_step_the_code_lacks_is_refused_with_the_manifest_named(
    mirror_settings: Settings, tmp_path: Path
) -> None:
    _derive_manifest(tmp_path, "0" * 64)
    text = (tmp_path / "assets.yaml").read_text().replace("wikinews_csv", "nope")
    (tmp_path / "assets.yaml").write_text(text)
    with pytest.raises(NewslabError, match="asset 'news': unknown derive step 'nope'"):
        assets.load_manifest()


def test_a_host_that_cannot_be_reached_is_not_retried_for_the_next_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(download.time, "sleep", waits.append)
    monkeypatch.setattr(download, "_unreachable", {})
    host = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(Unavailable, match="after 4 attempts"):
        download.get(f"{host}/a.csv", lambda read, size: None)
    assert len(waits) == download.RETRIES - 1
    with pytest.raises(Unavailable, match=f"{host}/b.csv: download failed .*could not be reached"):
        download.get(f"{host}/b.csv", lambda read, size: None)
    assert len(waits) == download.RETRIES - 1


def test_ensure_fetches_what_is_missing_and_nothing_else(mirror_settings: Settings) -> None:
    """What `dataset build` calls: a fresh data dir gets the asset fetched, no separate step."""
    folder = assets.ensure("demo")
    assert (folder / "a.csv").read_bytes() == CONTENT
    (mirror_settings.mirror_dir / "bench" / "a.csv").unlink()
    assert assets.ensure("demo") == folder  # present: the mirror is not needed again
    with pytest.raises(NewslabError, match="unknown asset 'nope'"):
        assets.ensure("nope")
