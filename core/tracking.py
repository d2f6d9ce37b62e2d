"""MLflow set-up: the tracking URI from settings, quiet logging, one experiment per task and dataset."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import warnings
from collections.abc import Iterable
from pathlib import Path

from core.errors import NewslabError
from core.settings import Settings, get_settings

#: the test predictions every training run logs, which the eval stage reads
PREDICTIONS = "predictions/test.parquet"

#: tags the main job sets on a run once it is trained and evaluated: the key of what went into it
#: (config, dataset, schema, code), by which a later `newslab run` finds it and skips the training
RUN_KEY_TAG = "newslab.run_key"
CODE_VERSION_TAG = "newslab.code_version"

QUIET_ENV = {
    "MLFLOW_LOGGING_LEVEL": "ERROR",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
}


def quiet() -> None:
    """Silence MLflow's and datasets' chatter (our own progress bars say what is going on)."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    for message in (
        "The specified dataset source can be interpreted",
        "Hint: Inferred schema contains integer",
        "Starting with pandas version",
    ):
        warnings.filterwarnings("ignore", message=message)


def check_server(uri: str, timeout: float = 5.0) -> None:
    """Fail early, before any training, when a tracking server does not answer."""
    if not uri.startswith(("http://", "https://")):
        return
    import httpx

    try:
        response = httpx.get(uri.rstrip("/") + "/health", timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise NewslabError(
            f"MLflow tracking server {uri} is not reachable ({type(exc).__name__}: {exc}).",
            "Start it, or unset NEWSLAB_TRACKING_URI / MLFLOW_TRACKING_URI to use the local store.",
        ) from None


def connect(settings: Settings | None = None) -> str:
    """Point MLflow at the configured store; return the tracking URI."""
    settings = settings or get_settings()
    quiet()
    import mlflow

    uri = settings.resolved_tracking_uri
    check_server(uri)
    if uri.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    return uri


def experiment_name(task: str, dataset: str) -> str:
    return f"{task}-{dataset}"


def ensure_experiment(name: str, settings: Settings | None = None) -> str:
    """Create the experiment (artifacts under data/ for a local store) and make it current."""
    import mlflow

    settings = settings or get_settings()
    existing = mlflow.get_experiment_by_name(name)
    if existing is None:
        location = None
        if not settings.resolved_tracking_uri.startswith(("http://", "https://")):
            location = (settings.mlflow_artifacts / name).resolve().as_uri()
        experiment_id = mlflow.create_experiment(name, artifact_location=location)
    else:
        experiment_id = existing.experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def git_commit(path: Path | None = None) -> str:
    path = path or get_settings().project_dir
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def code_version(folders: Iterable[Path]) -> str:
    """A hash of the Python sources under ``folders``: unlike a git commit, it sees uncommitted edits."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            digest.update(f"{folder.name}/{path.relative_to(folder).as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]
