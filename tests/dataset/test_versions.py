"""Dataset versions (issue 16): one build at a time, pruning by recorded order, checksums, modes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.errors import NewslabError
from core.settings import Settings
from dataset.build import build, load
from dataset.versions import META_FILE, prune, record_files, verify_datasets
from tests.conftest import run_cli


def _tiny(settings: Settings, tmp_path: Path) -> Path:
    """A 20-row dataset config over a hand-made PLOVER asset (no mirror needed)."""
    config = tmp_path / "tiny.yaml"
    config.write_text(
        "name: tiny\ntask: event_type\nimporter: plover_gsr\nasset: plover_gsr\n"
        "label_map: {FIGHT: ASSAULT}\noptions: {skip_events: [DOCUMENT]}\n"
        "splits: {fractions: {train: 0.5, test: 0.5}, seed: 1}\n"
    )
    from core.assets import asset_dir

    folder = asset_dir("plover_gsr", settings)
    folder.mkdir(parents=True)
    rows = [
        f'{{"id": "r{k}", "event": "{("AGREE", "FIGHT")[k % 2]}", "text": "sentence {k}"}}' for k in range(20)
    ]
    (folder / "PLOVER_GSR_CAMEO.txt").write_text("[\n" + ",\n".join(rows) + "\n]\n")
    return config


SLOW_BUILD = """
import pathlib, sys, time
from dataset import build as b
inner = b.imported_parts
def slow(*args, **kwargs):  # inside the build: long enough for the other process to try
    time.sleep(4)
    return inner(*args, **kwargs)
b.imported_parts = slow
go = pathlib.Path(sys.argv[2])
while not go.exists():
    time.sleep(0.02)
try:
    built = b.build(sys.argv[1])
except Exception as exc:
    print("REFUSED", exc)
    sys.exit(3)
print("BUILT", built.fingerprint)
"""


def test_two_builds_of_one_dataset_at_once_the_second_refuses(settings: Settings, tmp_path: Path) -> None:
    config = _tiny(settings, tmp_path)
    go = tmp_path / "go"
    env = {**os.environ, "NEWSLAB_DATA_DIR": str(settings.data_dir), "NEWSLAB_LOCK_WAIT": "0"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SLOW_BUILD, str(config), str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(8)  # both have imported datasets and wait at the barrier (a late one still overlaps)
    go.touch()
    outs = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    built = [o for o in outs if o[0] == 0]
    refused = [o for o in outs if o[0] == 3]
    assert len(built) == 1 and len(refused) == 1, outs
    winner = procs[outs.index(built[0])].pid
    assert f"dataset tiny is in use by PID {winner}" in refused[0][1]
    ds, meta = load(settings.datasets_dir / "tiny")
    assert meta["fingerprint"] in built[0][1] and len(ds["train"]) + len(ds["test"]) == 20
    versions = settings.datasets_dir / ".versions" / "tiny"
    assert sorted(p.name for p in versions.iterdir()) == [".lock", meta["fingerprint"]]


def _version(versions: Path, name: str, created: str, mtime: float) -> Path:
    folder = versions / name
    folder.mkdir(parents=True)
    (folder / META_FILE).write_text(json.dumps({"created": created}))
    os.utime(folder, (mtime, mtime))
    return folder


def test_prune_keeps_the_current_version_and_temps_whatever_their_mtime(tmp_path: Path) -> None:
    versions = tmp_path / ".versions" / "d"
    now = time.time()
    current = _version(versions, "cur", "2026-01-01T00:00:00.000001+00:00", now - 9000)  # oldest mtime
    before = _version(versions, "before", "2026-01-03T00:00:00.000001+00:00", now - 8000)
    _version(versions, "older", "2026-01-02T00:00:00.000001+00:00", now)  # newest mtime, older record
    temp = versions / ".abc.x1.tmp"  # another build's folder in progress
    temp.mkdir()
    os.utime(temp, (now - 99999, now - 99999))
    dest = tmp_path / "d"
    dest.symlink_to(os.path.relpath(current, tmp_path))
    removed = prune(versions, dest)
    assert [p.name for p in removed] == ["older"]
    assert current.is_dir() and before.is_dir() and temp.is_dir()


def test_a_corrupt_current_version_is_named_rebuilt_and_verified(settings: Settings, tmp_path: Path) -> None:
    config = _tiny(settings, tmp_path)
    first = build(str(config))
    arrow = next((first.path / "hf").rglob("*.arrow"))
    data = bytearray(arrow.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: same size, other content
    arrow.chmod(0o644)
    arrow.write_bytes(bytes(data))
    relative = arrow.resolve().relative_to(first.path.resolve()).as_posix()

    with pytest.raises(NewslabError) as err:
        load(first.path)
    assert relative in err.value.message and "sha256 differs" in err.value.message
    assert "newslab dataset build tiny" in (err.value.hint or "")

    env = {"NEWSLAB_DATA_DIR": str(settings.data_dir)}
    bad = run_cli("dataset", "verify", env=env)
    assert bad.returncode == 1 and "corrupt: sha256 differs" in bad.stdout and relative in bad.stdout
    assert "1 corrupt file(s) in dataset(s) tiny" in bad.stderr + bad.stdout

    again = build(str(config))
    assert again.written and again.fingerprint == first.fingerprint  # rewritten, not "(unchanged)"
    ds, _ = load(again.path)
    assert len(ds["train"]) + len(ds["test"]) == 20
    assert all(c.ok for c in verify_datasets(settings.datasets_dir)["tiny"])
    good = run_cli("dataset", "verify", "tiny", env=env)
    assert good.returncode == 0 and "corrupt" not in good.stdout and relative in good.stdout


def test_published_versions_are_0755_folders_and_0644_files(settings: Settings, tmp_path: Path) -> None:
    built = build(str(_tiny(settings, tmp_path)))
    root = built.path.resolve()
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))


def test_record_files_lists_every_file_but_the_meta(tmp_path: Path) -> None:
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "a.arrow").write_bytes(b"abc")
    (tmp_path / META_FILE).write_text("{}")
    record_files(tmp_path)
    meta = json.loads((tmp_path / META_FILE).read_text())
    assert list(meta["files"]) == ["hf/a.arrow"] and meta["files"]["hf/a.arrow"]["size"] == 3
    assert meta["created"]
