"""An MLflow tracking server on the stack's PostgreSQL, serving its artifacts from a folder.

The backend store URI names the role but not its password: that travels in ``PGPASSWORD``
(libpq reads it), so it is in neither the command line (``ps``) nor the server's log.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from core import processes
from core.errors import NewslabError
from core.redact import SECRET_ENV

#: environment variables the server must not inherit (secrets of other services)
_DROP = {*SECRET_ENV, "NEWSLAB_DATABASE_URL", "NEWSLAB_OPTUNA_STORAGE", "MLFLOW_TRACKING_URI"}


def executable() -> str:
    return processes.executable("mlflow", "MLflow", "Install newslab's dependencies.")


def healthy(url: str, timeout: float = 2.0) -> bool:
    return processes.healthy(url, timeout)


def start(
    *,
    backend_uri: str,
    password: str,
    artifacts: Path,
    host: str,
    port: int,
    workers: int,
    log: Path,
    check_url: str,
    allowed_hosts: str | None = None,
    timeout: float = 120.0,
) -> int:
    """Start ``mlflow server`` in its own session and wait until it answers; its pid."""
    artifacts.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    env["PGPASSWORD"] = password
    args = [
        executable(),
        "server",
        "--backend-store-uri",
        backend_uri,
        "--artifacts-destination",
        str(artifacts),
        "--serve-artifacts",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    if allowed_hosts:
        args += ["--allowed-hosts", allowed_hosts]
    with open(log, "ab") as out:
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True, cwd=log.parent
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise NewslabError(f"the MLflow server exited with code {process.returncode}; see {log}.")
        if healthy(check_url):
            return process.pid
        time.sleep(0.5)
    process.terminate()
    raise NewslabError(f"the MLflow server did not answer within {timeout:.0f} s; see {log}.")
