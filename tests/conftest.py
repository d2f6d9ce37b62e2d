"""Shared fixtures: an isolated data directory per test, and the real external data when present."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from core.settings import PROJECT_DIR, Settings, get_settings

if TYPE_CHECKING:
    from annotation.client import Connection

SHARED = PROJECT_DIR.parent / "shared"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")


@pytest.fixture()
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings whose data directory (datasets, MLflow store) is a fresh temp dir."""
    monkeypatch.setenv("NEWSLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("NEWSLAB_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "benchmarks").is_dir():
        if os.environ.get("CI"):  # CI always has the mirror: its absence is a failure there
            pytest.fail(f"the external data mirror {SHARED} is not present")
        pytest.skip(f"the external data mirror {SHARED} is not present")
    return SHARED


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def ls_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A real Label Studio, started once per session in a temp dir and shared by every folder's tests."""
    from annotation import server  # imported here: most tests never start a server

    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("ls")) / "data", ls_port=free_port())
    server.serve(settings)
    yield settings
    server.stop(settings)


@pytest.fixture()
def ls(ls_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, Connection]:
    """The server, with a project prefix of this test's own so tests do not see each other's projects."""
    from annotation.client import connect

    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_USER_TOKEN", raising=False)
    settings = ls_settings.model_copy(update={"ls_project_prefix": f"t-{uuid.uuid4().hex[:8]}"})
    return settings, connect(settings)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `newslab` entry point in a subprocess."""
    full_env = {**os.environ, **(env or {}), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "newslab.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=PROJECT_DIR,
        timeout=600,
    )


def spawn_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start the real `newslab` entry point in a subprocess and return at once (to act mid-command)."""
    full_env = {**os.environ, **(env or {}), "COLUMNS": "200"}
    return subprocess.Popen(
        [sys.executable, "-m", "newslab.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        cwd=PROJECT_DIR,
    )


PG_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A real PostgreSQL 15 cluster in a temp dir (initdb + pg_ctl as the postgres user); its URL."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN}")
    # not under pytest's tmp dirs: those are private to root, and the server runs as postgres
    root = Path(tempfile.mkdtemp(prefix="newslab-pg-"))
    data = root / "data"
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root
        user = pwd.getpwnam("postgres")
        shutil.chown(root, user.pw_uid, user.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(
        [*as_postgres, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [
            *as_postgres,
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True
        )


class PilotModels:
    """The pilot corpus's stance and event-type models, trained and evaluated once per session."""

    def __init__(self, settings: Settings, stance_run: str, events_run: str) -> None:
        self.settings = settings
        self.stance_run = stance_run
        self.events_run = events_run


@pytest.fixture(scope="session")
def pilot_models(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PilotModels]:
    """The pilot dataset built, ``pilot_stance_lr`` and ``pilot_events_lr`` trained and evaluated
    (champions registered) in a data directory and MLflow store of their own."""
    from dataset.build import build
    from eval.evaluate import evaluate_run
    from training.train import train

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEWSLAB_DATA_DIR", str(tmp_path_factory.mktemp("pilot") / "data"))
        mp.delenv("NEWSLAB_TRACKING_URI", raising=False)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        get_settings.cache_clear()
        settings = get_settings()
        build("pilot", settings=settings)
        stance = train("pilot_stance_lr", settings=settings)
        events = train("pilot_events_lr", settings=settings)
        for run in (stance, events):
            evaluate_run(run.run_id, settings, n_boot=20)
        yield PilotModels(settings, stance.run_id, events.run_id)
    get_settings.cache_clear()


def pilot_copy(pilot_models: PilotModels, data: Path) -> Path:
    """The pilot's corpus and datasets in a data directory of a test's own, without its MLflow
    store, Label Studio or annotations (a test that trains there leaves the session's alone)."""
    shutil.copytree(
        pilot_models.settings.data_dir,
        data,
        symlinks=True,
        ignore=shutil.ignore_patterns("mlflow.db*", "mlartifacts", "labelstudio", "backend", "annotations"),
    )
    return data


@pytest.fixture()
def pilot(pilot_models: PilotModels, monkeypatch: pytest.MonkeyPatch) -> Iterator[PilotModels]:
    """``pilot_models``, made this test's data directory and MLflow store."""
    from core import tracking

    monkeypatch.setenv("NEWSLAB_DATA_DIR", str(pilot_models.settings.data_dir))
    monkeypatch.delenv("NEWSLAB_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    get_settings.cache_clear()
    tracking.connect(pilot_models.settings)
    yield pilot_models
    get_settings.cache_clear()
