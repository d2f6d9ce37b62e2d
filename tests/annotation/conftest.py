"""A real Label Studio for the integration tests, started once per session in a temp dir."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from annotation import server
from annotation.client import Connection, connect
from core.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def ls_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("ls")) / "data", ls_port=free_port())
    server.serve(settings)
    yield settings
    server.stop(settings)


@pytest.fixture()
def ls(ls_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, Connection]:
    """The server, with a project prefix of this test's own so tests do not see each other's projects."""
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_USER_TOKEN", raising=False)
    settings = ls_settings.model_copy(update={"ls_project_prefix": f"t-{uuid.uuid4().hex[:8]}"})
    return settings, connect(settings)
