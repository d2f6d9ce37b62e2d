"""Finding 3: a second ingest into the same store refuses, naming the first; nothing is lost."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.locks import Busy
from core.settings import PROJECT_DIR, Settings
from corpus.ingest import ingest
from corpus.store import Store
from tests.corpus.helpers import article, jsonl

#: an ingest whose analysis waits for a go-file: it holds the lock, with temp files written, until told
SLOW_INGEST = """
import pathlib, sys, time
from corpus import ingest as m
source, root, started, go = map(pathlib.Path, sys.argv[1:5])
real = m.analyse
def slow(*args, **kwargs):
    started.touch()
    while not go.exists():
        time.sleep(0.05)
    return real(*args, **kwargs)
m.analyse = slow
print(m.ingest([source], root=root, batch_size=2).added)
"""


def test_a_second_ingest_is_refused_and_the_first_completes(settings: Settings, tmp_path: Path) -> None:
    root = settings.data_dir / "corpus"
    first = jsonl(tmp_path / "first.jsonl", [article(i) for i in range(6)])
    second = jsonl(tmp_path / "second.jsonl", [article(100 + i) for i in range(3)])
    started, go = tmp_path / "started", tmp_path / "go"
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_INGEST, str(first), str(root), str(started), str(go)],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not started.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the first ingest never started"
            time.sleep(0.1)
        with pytest.raises(Busy, match=re.escape(f"the corpus store {root} is in use by PID {proc.pid}")):
            ingest([second], root=root)
        go.touch()
        out, err = proc.communicate(timeout=300)
    finally:
        go.touch()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert out.strip() == "6"
    assert ingest([second], root=root).added == 3
    assert len(Store(root)) == 9 and len(set(Store(root).column("id").tolist())) == 9
