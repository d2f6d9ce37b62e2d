"""Fixtures of the ML backend's tests: a backend started as a real process, as a user starts it.

Label Studio 1.23 refuses ML backends (and webhooks) on local addresses unless told otherwise;
the session's Label Studio (``tests/conftest.py``) takes its environment from this process, so
these are set before any test starts it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from core.settings import PROJECT_DIR, Settings
from tests.conftest import PilotModels, free_port

#: the store is the data directory's own
UNSET_TRACKING: dict[str, str | None] = {"NEWSLAB_TRACKING_URI": None, "MLFLOW_TRACKING_URI": None}


@dataclass
class BackendProcess:
    url: str
    process: subprocess.Popen
    log: Path

    def health(self) -> dict:
        return httpx.get(f"{self.url}/health", timeout=10).json()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # as Ctrl-C: a retraining under way is stopped too
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def ls_env(settings: Settings, token: str) -> dict[str, str]:
    """The environment that points newslab at the session's Label Studio and this test's projects."""
    return {
        "NEWSLAB_LS_URL": f"http://127.0.0.1:{settings.ls_port}",
        "LABEL_STUDIO_API_KEY": token,
        "NEWSLAB_LS_PROJECT_PREFIX": settings.ls_project_prefix,
    }


def start_backend(
    args: list[str], env: dict[str, str | None], log: Path, timeout: float = 180
) -> BackendProcess:
    """``python -m newslab.cli annotate backend ARGS`` on a free port, once its /health answers
    (``env``: variables to set; None unsets one)."""
    port = free_port()
    full_env = {**os.environ, "COLUMNS": "200"}
    for key, value in env.items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "newslab.cli", "annotate", "backend", "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=PROJECT_DIR,
        )
    backend = BackendProcess(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the backend exited with {process.returncode}:\n{backend.output()}")
        try:
            if httpx.get(f"{backend.url}/health", timeout=2).status_code == 200:
                return backend
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    backend.stop()
    raise AssertionError(f"the backend did not answer within {timeout:.0f} s:\n{backend.output()}")


@pytest.fixture()
def backend_factory(tmp_path: Path) -> Iterator[Callable[..., BackendProcess]]:
    """Start backends as real processes; every one is stopped at the end of the test."""
    started: list[BackendProcess] = []

    def start(args: list[str], env: dict[str, str | None]) -> BackendProcess:
        backend = start_backend(args, env, tmp_path / f"backend-{len(started)}.log")
        started.append(backend)
        return backend

    yield start
    for backend in started:
        backend.stop()


@pytest.fixture(scope="module")
def pilot_backend(
    pilot_models: PilotModels, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BackendProcess]:
    """The pilot's stance champion served by a backend process (``--experiment pilot_stance_lr``:
    the model defaults to its champion), shared by the tests of a module; it never retrains."""
    env = {"NEWSLAB_DATA_DIR": str(pilot_models.settings.data_dir), **UNSET_TRACKING}
    log = tmp_path_factory.mktemp("backend") / "backend.log"
    backend = start_backend(["--experiment", "pilot_stance_lr"], env, log)
    yield backend
    backend.stop()
