"""Shared fixtures: an isolated data directory per test, and the real external data when present."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newslab.settings import PROJECT_DIR, Settings, get_settings

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
