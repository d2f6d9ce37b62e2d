from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import pytest

from core.locks import Busy, holder, is_locked, lock


def _hold(path: str, ready, seconds: float) -> None:
    with lock(Path(path), "the test store"):
        ready.set()
        time.sleep(seconds)


def _start_holder(path: Path, seconds: float = 30) -> mp.Process:
    ready = mp.get_context("fork").Event()
    proc = mp.get_context("fork").Process(target=_hold, args=(str(path), ready, seconds))
    proc.start()
    assert ready.wait(20)
    return proc


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    path = tmp_path / "store" / ".lock"
    proc = _start_holder(path)
    try:
        assert is_locked(path)
        with pytest.raises(Busy) as err, lock(path, "the test store"):
            pass
        assert f"PID {proc.pid}" in err.value.message
        assert "the test store is in use" in err.value.message
        assert holder(path)["pid"] == proc.pid
    finally:
        proc.kill()
        proc.join()


def test_a_dead_holders_lock_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    proc = _start_holder(path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    assert not is_locked(path)
    with lock(path, "the test store"):  # no manual clean-up of the stale file
        assert holder(path)["pid"] == os.getpid()


def test_waiting_gets_the_lock_once_the_holder_is_done(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    proc = _start_holder(path, seconds=1)
    with lock(path, "the test store", wait=20):
        assert holder(path)["pid"] == os.getpid()
    proc.join()


def test_the_lock_is_reentrant_within_a_process_and_released(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    with lock(path, "outer"), lock(path, "inner"):
        assert is_locked(path)
    assert not is_locked(path)


def test_the_wait_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / ".lock"
    proc = _start_holder(path, seconds=1)
    monkeypatch.setenv("NEWSLAB_LOCK_WAIT", "20")
    with lock(path, "the test store"):
        pass
    proc.join()
