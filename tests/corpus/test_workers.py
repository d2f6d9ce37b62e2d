"""Finding 5: the workers of a killed `ingest --workers 2` die with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.settings import PROJECT_DIR, Settings
from tests.corpus.helpers import article, jsonl


def _children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` and that run the same command (the pool's workers)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            if fields.get("PPid", "").strip() == str(pid):
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has exited; only reaping is left


def test_killed_ingest_leaves_no_workers(settings: Settings, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", [article(i, 100) for i in range(3000)])
    proc = subprocess.Popen(
        [sys.executable, "-m", "newslab.cli", "corpus", "ingest", str(path), "--workers", "2"],
        cwd=PROJECT_DIR,
        env={**os.environ, "NEWSLAB_DATA_DIR": str(settings.data_dir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        cmdline = None
        while len(workers) < 2:
            assert proc.poll() is None, "the ingest ended before its workers started"
            assert time.monotonic() < deadline, "no workers appeared"
            cmdline = cmdline or Path(f"/proc/{proc.pid}/cmdline").read_bytes()
            workers = [c for c in _children(proc.pid) if Path(f"/proc/{c}/cmdline").read_bytes() == cmdline]
            time.sleep(0.1)
        time.sleep(0.5)  # past their initializer
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [w for w in workers if _alive(w)]
    for w in left:
        os.kill(w, signal.SIGKILL)
    assert left == [], f"workers {left} outlived the killed ingest"
