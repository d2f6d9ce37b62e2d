"""A local, headless Label Studio: start it, check it, stop it.

Its SQLite store and media live under ``data/labelstudio/``. The admin user and
API token come from the environment (``LABEL_STUDIO_USERNAME``,
``LABEL_STUDIO_PASSWORD``, ``LABEL_STUDIO_USER_TOKEN``); when they are not set,
newslab makes them once and keeps them in ``data/labelstudio/credentials.json``
(mode 0600, git-ignored). They are never logged.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from core.errors import NewslabError
from core.processes import alive, executable, healthy, port_free
from core.settings import Settings, get_settings

STATE = "server.json"
CREDENTIALS = "credentials.json"
PORT_LINE = re.compile(r"Starting development server at http://[\d.]+:(\d+)/")


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    token: str


@dataclass(frozen=True)
class ServerInfo:
    url: str
    pid: int | None
    running: bool
    data_dir: Path
    log: Path


def credentials(settings: Settings | None = None) -> Credentials:
    """The admin credentials: from the environment, else made once and kept under data/labelstudio."""
    settings = settings or get_settings()
    env = os.environ
    if env.get("LABEL_STUDIO_USER_TOKEN") and env.get("LABEL_STUDIO_PASSWORD"):
        return Credentials(
            env.get("LABEL_STUDIO_USERNAME", "admin@newslab.local"),
            env["LABEL_STUDIO_PASSWORD"],
            env["LABEL_STUDIO_USER_TOKEN"],
        )
    path = settings.ls_dir / CREDENTIALS
    if path.exists():
        return Credentials(**json.loads(path.read_text()))
    made = Credentials(
        env.get("LABEL_STUDIO_USERNAME", "admin@newslab.local"),
        secrets.token_urlsafe(16),
        secrets.token_hex(20),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(made.__dict__, fh)
    return made


def _executable() -> str:
    return executable(
        "label-studio",
        "Label Studio",
        "Install it with `pip install 'newslab[annotate]'` (make test does), or point "
        "NEWSLAB_LS_URL at a running server.",
    )


def status(settings: Settings | None = None, data_dir: Path | None = None) -> ServerInfo:
    settings = settings or get_settings()
    data = data_dir or settings.ls_dir
    state = data / STATE
    log = data / "server.log"
    if not state.exists():
        url = f"http://127.0.0.1:{settings.ls_port}"
        return ServerInfo(url, None, False, data, log)
    info = json.loads(state.read_text())
    running = alive(info["pid"]) and healthy(info["url"])
    return ServerInfo(info["url"], info["pid"], running, data, log)


def serve(
    settings: Settings | None = None,
    port: int | None = None,
    timeout: float = 180.0,
    *,
    extra_env: dict[str, str] | None = None,
    data_dir: Path | None = None,
    host: str = "127.0.0.1",
) -> ServerInfo:
    """Start Label Studio in the background and wait until it answers; a no-op if it already runs.

    ``extra_env`` adds Label Studio's own settings (e.g. ``DJANGO_DB=default`` and
    ``POSTGRE_NAME/USER/PASSWORD/HOST/PORT`` for a PostgreSQL store) and wins over the rest;
    when it carries ``LABEL_STUDIO_USER_TOKEN`` and ``LABEL_STUDIO_PASSWORD`` those are the
    admin's. ``data_dir`` replaces ``data/labelstudio``; ``host`` is the address to listen on.
    Without them, the local SQLite server as before.
    """
    settings = settings or get_settings()
    extra_env = dict(extra_env or {})
    current = status(settings, data_dir)
    if current.running:
        return current
    port = port or settings.ls_port
    if not port_free(port):
        raise NewslabError(
            f"port {port} on 127.0.0.1 is in use (Label Studio would silently move to another one).",
            "Stop what uses it, or choose a port with NEWSLAB_LS_PORT / --port.",
        )
    if extra_env.get("LABEL_STUDIO_USER_TOKEN") and extra_env.get("LABEL_STUDIO_PASSWORD"):
        creds = Credentials(
            extra_env.get("LABEL_STUDIO_USERNAME", "admin@newslab.local"),
            extra_env["LABEL_STUDIO_PASSWORD"],
            extra_env["LABEL_STUDIO_USER_TOKEN"],
        )
    else:
        creds = credentials(settings)
    data = data_dir or settings.ls_dir
    data.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in {"USERNAME", "PASSWORD", "PORT", "HOST"}}
    env.update(
        LABEL_STUDIO_BASE_DATA_DIR=str(data),
        LABEL_STUDIO_USERNAME=creds.username,
        LABEL_STUDIO_PASSWORD=creds.password,
        LABEL_STUDIO_USER_TOKEN=creds.token,
        LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
        LATEST_VERSION_CHECK="false",
        LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK="false",
    )
    # this server is the local one: an ML backend on 127.0.0.1 (`newslab annotate backend`) and
    # its training webhooks must be allowed (Label Studio refuses local addresses by default)
    env.setdefault("ML_BLOCK_LOCAL_IP", "false")
    env.setdefault("SSRF_PROTECTION_ENABLED", "false")
    env.update(extra_env)
    log = data / "server.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [
                _executable(),
                "start",
                "--no-browser",
                "--internal-host",
                host,
                "--port",
                str(port),
                "--data-dir",
                str(data),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            cwd=data,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise NewslabError(f"Label Studio exited with code {process.returncode}; see {log}.")
        match = PORT_LINE.findall(log.read_text(errors="replace")[-20000:])
        if match and int(match[-1]) != port:
            process.terminate()
            raise NewslabError(f"Label Studio moved to port {match[-1]} instead of {port}; stopped it.")
        if healthy(url):
            break
        time.sleep(1.0)
    else:
        process.terminate()
        raise NewslabError(f"Label Studio did not answer within {timeout:.0f} s; see {log}.")
    (data / STATE).write_text(json.dumps({"pid": process.pid, "url": url, "port": port}))
    return ServerInfo(url, process.pid, True, data, log)


def stop(settings: Settings | None = None, timeout: float = 20.0, data_dir: Path | None = None) -> bool:
    """Stop the local server (the one under ``data_dir`` when given); False if none was running."""
    settings = settings or get_settings()
    state = (data_dir or settings.ls_dir) / STATE
    if not state.exists():
        return False
    info = json.loads(state.read_text())
    pid, port = info["pid"], info.get("port")
    stopped = False
    if alive(pid):
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if alive(pid):
            os.killpg(pid, signal.SIGKILL)
        # the group's other processes may hold the port a moment longer: a restart needs it free
        while port and not port_free(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        stopped = True
    state.unlink(missing_ok=True)
    return stopped
