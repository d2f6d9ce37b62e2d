"""MLflow set-up: the tracking URI from settings, quiet logging, one experiment per task and dataset.

Also what keeps a store sound when commands overlap or die: a new SQLite store is created under
a lock (parallel first runs raced on its schema migration), every store is checked before any
training, and runs whose process died are marked FAILED (``reap``) rather than left RUNNING.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import subprocess
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.errors import NewslabError
from core.locks import lock
from core.redact import redact
from core.settings import Settings, get_settings

#: the test predictions every training run logs, which the eval stage reads
PREDICTIONS = "predictions/test.parquet"

#: tags the main job sets on a run once it is trained and evaluated: the key of what went into it
#: (config, dataset, schema, code), by which a later `newslab run` finds it and skips the training
#: what a run is (a training run has none): cv, learning_curve, report, al_round, ...
KIND_TAG = "newslab.kind"
RUN_KEY_TAG = "newslab.run_key"
CODE_VERSION_TAG = "newslab.code_version"
#: the process that owns a run, and when ``reap`` marked it FAILED because that process had died
PID_TAG, HOST_TAG, REAPED_TAG = "newslab.pid", "newslab.host", "newslab.reaped"

QUIET_ENV = {
    "MLFLOW_LOGGING_LEVEL": "ERROR",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    # MLflow's own loaders read the skops trust list from the model file itself; newslab loads
    # models through training.loading, with the list its code holds (see there)
    "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false",
}

#: the URI kinds check_server knows, by scheme prefix
_DATABASES = ("postgresql", "mysql", "mssql")


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


def first_line(exc: BaseException) -> str:
    """``Type: first line`` of an exception, redacted (drivers quote the URI, password included)."""
    text = str(exc).strip().splitlines()
    return redact(f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": "))


def _unreachable(uri: str, kind: str, why: str) -> NewslabError:
    return NewslabError(
        f"MLflow tracking store {redact(uri)} ({kind}) is not reachable ({why}).",
        "Start it or fix the URI, or unset NEWSLAB_TRACKING_URI / MLFLOW_TRACKING_URI (the local store).",
    )


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (None for an in-memory one)."""
    path = uri[len("sqlite:///") :].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def _check_http(uri: str, timeout: float) -> None:
    import httpx

    try:
        response = httpx.get(uri.rstrip("/") + "/health", timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise _unreachable(uri, "MLflow server", first_line(exc)) from None


def _check_database(uri: str, kind: str, timeout: float) -> None:
    """A short connect (``connect_timeout``), so a database that is down fails in seconds."""
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(uri, connect_args={"connect_timeout": max(1, int(timeout))})
        try:
            with engine.connect():
                pass
        finally:
            engine.dispose()
    except Exception as exc:  # a driver's OperationalError, a missing driver, a malformed URL
        raise _unreachable(uri, kind, first_line(exc)) from None


def _check_folder(uri: str, folder: Path, kind: str) -> None:
    """A local store's folder exists (made if need be) and this user may write in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unreachable(uri, kind, f"cannot create {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _unreachable(uri, kind, f"the folder {folder} is not writable")


def check_server(uri: str, timeout: float = 5.0) -> None:
    """Fail early, before any training, when the tracking store cannot be used: a server that does
    not answer, a database that refuses a connection, a local folder this user cannot write."""
    scheme = uri.split("://", 1)[0].split("+", 1)[0].lower() if "://" in uri else ""
    if not scheme and uri.startswith(("/", ".")):
        scheme = "file"  # a plain folder: MLflow's file store
    if scheme in ("http", "https"):
        _check_http(uri, timeout)
    elif scheme in _DATABASES:
        _check_database(uri, scheme, timeout)
    elif scheme == "sqlite":
        path = sqlite_path(uri)
        if path is not None:
            _check_folder(uri, path.resolve().parent, "sqlite")
    elif scheme == "file":
        _check_folder(uri, Path(uri.removeprefix("file://")).resolve(), "local folder")


def create_store(uri: str) -> None:
    """Create (and migrate) a SQLite store under its lock: MLflow migrates a new database when it
    first opens it, and parallel first runs raced on that migration and broke the store for good."""
    path = sqlite_path(uri)
    if path is None:
        return
    from mlflow.tracking._tracking_service.utils import _get_store

    with lock(path.with_name(path.name + ".lock"), "the MLflow store's first set-up", wait=600):
        _get_store(uri)  # opens the store: creates and migrates its tables, here, under the lock


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
    if uri.startswith("sqlite:///"):
        create_store(uri)
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


def owner_tags() -> dict[str, str]:
    """Tags naming the process that owns a new run, by which ``reap`` knows a run left RUNNING."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def safe(values: dict[str, Any]) -> dict[str, Any]:
    """Params or tags with any password in their text masked: what goes into MLflow is shown to all."""
    return {k: redact(v) if isinstance(v, str) else v for k, v in values.items()}


@contextmanager
def killed_on_interrupt() -> Iterator[None]:
    """End the active run as KILLED on Ctrl-C, so a run cut short says so and is never ranked."""
    try:
        yield
    except KeyboardInterrupt:
        import mlflow

        mlflow.end_run("KILLED")
        raise


def _connection_lost(exc: BaseException) -> bool:
    """An HTTP store that stopped answering (refused, reset, retries exhausted), not a bad request."""
    text = f"{type(exc).__name__}: {exc}"
    return any(
        mark in text
        for mark in ("Max retries exceeded", "Connection refused", "ConnectionError", "Connection aborted")
    )


@contextmanager
def server_lost(uri: str) -> Iterator[None]:
    """A tracking server that dies mid-run: one readable error instead of MLflow's traceback.

    The run cannot be closed on a server that is gone, so it stays RUNNING there until the next
    ``train`` or ``sweep`` against that server marks it FAILED (``reap``: its process is gone).
    """
    try:
        yield
    except Exception as exc:
        if not uri.startswith(("http://", "https://")) or not _connection_lost(exc):
            raise
        raise NewslabError(
            f"the MLflow tracking server {redact(uri)} stopped answering during the run "
            f"({first_line(exc)[:200]}).",
            "Nothing half-logged is trusted: once the server is back (`newslab team up`), run the "
            "same command again; it marks the cut-short run FAILED and starts a new one.",
        ) from None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def _orphaned(tags: dict[str, str]) -> bool:
    """A run whose owning process, on this host, is gone (runs of other hosts are left alone)."""
    pid = tags.get(PID_TAG, "")
    if tags.get(HOST_TAG) != socket.gethostname() or not pid.isdigit():
        return False
    return int(pid) != os.getpid() and not _alive(int(pid))


def reap(*experiment_ids: str) -> list[str]:
    """Mark FAILED the RUNNING runs (and their PENDING models) whose process died: a run killed
    mid-logging stays RUNNING for ever otherwise. Every experiment when none is given."""
    from mlflow import MlflowClient
    from mlflow.entities import LoggedModelStatus

    client = MlflowClient()
    ids = list(experiment_ids) or [e.experiment_id for e in client.search_experiments()]
    if not ids:
        return []
    reaped = []
    for run in client.search_runs(ids, "attributes.status = 'RUNNING'", max_results=1000):
        if not _orphaned(run.data.tags):
            continue
        run_id = run.info.run_id
        client.set_tag(run_id, REAPED_TAG, time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        for model in client.search_logged_models(
            [run.info.experiment_id], filter_string=f"source_run_id = '{run_id}'"
        ):
            if model.status == LoggedModelStatus.PENDING:
                client.finalize_logged_model(model.model_id, LoggedModelStatus.FAILED)
        client.set_terminated(run_id, "FAILED")
        reaped.append(run_id)
    return reaped


def model_ready(client: Any, run: Any) -> bool:
    """Whether the run's logged model is complete (READY), not PENDING from a run cut short."""
    from mlflow.entities import LoggedModelStatus

    outputs = run.outputs.model_outputs if run.outputs else []
    if not outputs:
        return False
    try:
        return client.get_logged_model(outputs[0].model_id).status == LoggedModelStatus.READY
    except Exception:  # a model deleted since, or a store that lost it
        return False


def usable(client: Any, run: Any) -> bool:
    """A run to evaluate, rank or show: FINISHED, with a complete model."""
    return run.info.status == "FINISHED" and model_ready(client, run)


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
