"""Ctrl-C, a full disk and a refused permission end in one line and an exit code, never a traceback."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.settings import PROJECT_DIR, Settings

NEWSLAB = [sys.executable, "-c", "from newslab.launch import main; main()"]
GLOBAL_VOICES = PROJECT_DIR.parent / "shared" / "corpus" / "globalvoices_en" / "articles.jsonl"


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "NEWSLAB_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}


def _children(pid: int) -> list[int]:
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            out.append(int(status.parent.name))
    return out


@pytest.mark.slow
@pytest.mark.skipif(not GLOBAL_VOICES.exists(), reason="needs ../shared")
def test_ctrl_c_during_an_ingest_says_nothing_was_written_and_stops_its_workers(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*NEWSLAB, "corpus", "ingest", str(GLOBAL_VOICES), "--workers", "2"],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while len(_children(proc.pid)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    workers = _children(proc.pid)
    assert len(workers) >= 2, "the ingest never started its workers"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted; nothing was written" in err
    assert "Traceback" not in err
    time.sleep(1)
    assert not [w for w in workers if Path(f"/proc/{w}").exists()], "workers outlived the interrupted ingest"
    corpus = tmp_path / "data" / "corpus"
    assert not list(corpus.rglob("*.tmp")) if corpus.exists() else True
    assert not (corpus / "manifest.json").exists()


def _importing_newslab(pid: int) -> bool:
    """Whether the process is past the interpreter's own start-up (site, .pth files: a Ctrl-C there
    is Python's "Fatal Python error", before any program code can run) and into newslab's imports."""
    try:
        return "pydantic_core" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2, 0.5, 1.0])
def test_ctrl_c_while_starting_up_prints_no_traceback(tmp_path: Path, delay: float) -> None:
    proc = subprocess.Popen(
        [*NEWSLAB, "schema"], env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not _importing_newslab(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err
    assert proc.returncode in (0, 130), err
    if proc.returncode == 130:
        assert "interrupted" in err


def test_a_full_disk_is_one_line_naming_the_file_and_leaves_no_temp_file(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import core.files
    from newslab.cli import main

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(core.files.os, "fsync", full)
    with pytest.raises(SystemExit) as exit_:
        main(["assets", "fetch", "seed"])
    err = capsys.readouterr().err
    assert exit_.value.code == 1
    assert "error: no space left on the device:" in err
    assert str(settings.data_dir) in err
    assert "Traceback" not in err and "Errno" not in err
    assert not [p for p in settings.data_dir.rglob("*") if p.name.endswith(".tmp")]


def test_a_refused_permission_is_one_line(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import core.files
    from newslab.cli import main

    def refused(src: str, dst: str) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", dst)

    monkeypatch.setattr(core.files.os, "replace", refused)
    with pytest.raises(SystemExit) as exit_:
        main(["assets", "fetch", "seed"])
    err = capsys.readouterr().err
    assert exit_.value.code == 1
    assert "error: permission denied:" in err and "Traceback" not in err
