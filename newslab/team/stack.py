"""The team stack as a whole: up, status, down, and the settings other machines set.

State (pids, ports, URLs; never a secret) is kept in ``data/team/stack.json``; passwords and
Label Studio's token in ``data/team/secrets.json`` (0600). Every line a person sees goes through
``masked``: the real values only ever go to the 0600 file ``env --out`` writes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from core.errors import NewslabError
from core.processes import alive, port_free
from core.redact import MASK, redact
from core.settings import Settings, get_settings
from newslab.team import mlflow_server, passwords, postgres

STATE = "stack.json"
SECRETS = "secrets.json"
LS_ADMIN = "admin@newslab.local"
#: not the embedded ones (Label Studio 8080, `make ui` 5000): both run side by side while migrating
DEFAULT_PORTS = {"postgres": 5432, "labelstudio": 8081, "mlflow": 5001}
#: the role and database of each service
DB = {"ls": "newslab_ls", "mlflow": "newslab_mlflow", "optuna": "newslab_optuna"}
#: the settings a second machine sets, and which of them are secrets
SECRET_KEYS = {"LABEL_STUDIO_API_KEY"}


@dataclass(frozen=True)
class Service:
    name: str
    running: bool
    url: str
    pid: int | None
    log: Path | None


@dataclass(frozen=True)
class Team:
    services: list[Service]
    #: what another machine sets: the real values (print ``masked(...)`` of them)
    env: dict[str, str]
    secrets_file: Path


def team_dir(settings: Settings) -> Path:
    return settings.data_dir / "team"


def _load_state(settings: Settings) -> dict:
    path = team_dir(settings) / STATE
    return json.loads(path.read_text()) if path.exists() else {}


def _save_state(settings: Settings, state: dict) -> None:
    path = team_dir(settings) / STATE
    tmp = path.with_name(f".{STATE}.tmp")
    tmp.write_text(json.dumps(state, indent=1))
    os.replace(tmp, path)


def _kill_group(pid: int, timeout: float = 20.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def _local(host: str) -> str:
    """The address this machine reaches a service on."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def _public(host: str) -> str:
    """The address other machines reach a service on."""
    return socket.gethostname() if host in ("0.0.0.0", "::") else host


def _database(settings: Settings, secrets: dict[str, str]) -> tuple[postgres.Server, postgres.Cluster | None]:
    url = os.environ.get("NEWSLAB_DATABASE_URL", "")
    if url:
        return postgres.from_url(url), None
    return (
        postgres.Server("", 0, postgres.SUPERUSER, secrets["postgres"], "postgres", external=False),
        postgres.Cluster(team_dir(settings) / "postgres"),
    )


def masked(env: dict[str, str]) -> dict[str, str]:
    """The settings with every secret hidden: tokens whole, passwords inside URLs."""
    return {k: (MASK if k in SECRET_KEYS else redact(v)) for k, v in env.items()}


def _other_machines(state: dict, secrets: dict[str, str]) -> dict[str, str]:
    db = state["database"]
    db_host = db["host"] if db.get("external") else _public(state["host"])
    public = _public(state["host"])
    return {
        "NEWSLAB_LS_URL": f"http://{public}:{state['labelstudio']['port']}",
        "LABEL_STUDIO_API_KEY": secrets["ls_token"],
        "NEWSLAB_TRACKING_URI": f"http://{public}:{state['mlflow']['port']}",
        "NEWSLAB_OPTUNA_STORAGE": (
            f"postgresql+psycopg://{DB['optuna']}:{secrets['optuna']}@{db_host}:{db['port']}/{DB['optuna']}"
        ),
    }


def up(
    settings: Settings | None = None,
    *,
    host: str = "127.0.0.1",
    workers: int = 2,
    pg_port: int | None = None,
    ls_port: int | None = None,
    mlflow_port: int | None = None,
    timeout: float = 300.0,
) -> Team:
    """Start what is not running (PostgreSQL or NEWSLAB_DATABASE_URL, Label Studio, MLflow); idempotent.

    A running service is left as it is (on its port); the others start on the ports given, else
    the ones they had, else the defaults.
    """
    from annotation import server as ls_server

    settings = settings or get_settings()
    root = team_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    secrets = passwords.load(root / SECRETS)
    old = _load_state(settings)
    current = {s.name: s for s in status(settings)} if old else {}
    if any(s.running for s in current.values()):  # a running stack keeps its address
        host = old.get("host", host)
    state: dict = {"host": host}

    def port_of(name: str, given: int | None) -> int:
        if current.get(name) and current[name].running:
            return old[name]["port"]
        return given or old.get(name, {}).get("port") or DEFAULT_PORTS[name]

    wanted = {
        "postgres": port_of("postgres", pg_port),
        "labelstudio": port_of("labelstudio", ls_port),
        "mlflow": port_of("mlflow", mlflow_port),
    }
    server, cluster = _database(settings, secrets)
    if cluster is not None:
        postgres.binaries()  # missing binaries: say so before anything starts
    for name, port in wanted.items():
        if name == "postgres" and cluster is None:
            continue
        if not (current.get(name) and current[name].running) and not port_free(port, host):
            raise NewslabError(
                f"port {port} on {host} is in use; {name} cannot start there.",
                f"Stop what uses it, or choose another port (newslab team up --{_flag(name)} PORT).",
            )

    # 1. PostgreSQL
    if cluster is not None:
        started = time.monotonic()
        fresh = not cluster.initialised()
        cluster.init(secrets["postgres"], host)
        if fresh:
            state["timings"] = {"initdb_s": round(time.monotonic() - started, 1)}
        pid = cluster.pid()
        started = time.monotonic()
        if pid is None:
            pid = cluster.start(host, wanted["postgres"])
            state.setdefault("timings", {})["postgres_s"] = round(time.monotonic() - started, 1)
        server = postgres.Server(
            _local(host), wanted["postgres"], postgres.SUPERUSER, secrets["postgres"], "postgres", False
        )
        state["postgres"] = {"pid": pid, "port": wanted["postgres"], "log": str(cluster.log)}
        state["database"] = {"external": False, "host": _local(host), "port": wanted["postgres"]}
    else:
        state["database"] = {"external": True, "host": server.host, "port": server.port}
    state.setdefault("timings", {})
    _save_state(settings, {**old, **state})
    for service, name in DB.items():
        postgres.ensure_database(server, name, secrets[service])
    db_host = state["database"]["host"]
    db_port = state["database"]["port"]

    # 2. Label Studio on it
    ls_dir = root / "labelstudio"
    started = time.monotonic()
    ls_running = bool(current.get("labelstudio") and current["labelstudio"].running)
    info = ls_server.serve(
        settings,
        port=wanted["labelstudio"],
        timeout=timeout,
        data_dir=ls_dir,
        host=host,
        extra_env={
            "DJANGO_DB": "default",
            "POSTGRE_NAME": DB["ls"],
            "POSTGRE_USER": DB["ls"],
            "POSTGRE_PASSWORD": secrets["ls"],
            "POSTGRE_HOST": db_host,
            "POSTGRE_PORT": str(db_port),
            "LABEL_STUDIO_USERNAME": LS_ADMIN,
            "LABEL_STUDIO_PASSWORD": secrets["ls_admin"],
            "LABEL_STUDIO_USER_TOKEN": secrets["ls_token"],
            "SECRET_KEY": secrets["ls_secret_key"],
        },
    )
    if not ls_running:
        state["timings"]["labelstudio_s"] = round(time.monotonic() - started, 1)
    state["labelstudio"] = {"pid": info.pid, "port": wanted["labelstudio"], "log": str(info.log)}
    _save_state(settings, {**old, **state})

    # 3. the MLflow tracking server on it
    port = wanted["mlflow"]
    check_url = f"http://{_local(host)}:{port}"
    log = root / "mlflow.log"
    if current.get("mlflow") and current["mlflow"].running:
        pid = old["mlflow"]["pid"]
    else:
        started = time.monotonic()
        public = _public(host)
        pid = mlflow_server.start(
            backend_uri=f"postgresql+psycopg://{DB['mlflow']}@{db_host}:{db_port}/{DB['mlflow']}",
            password=secrets["mlflow"],
            artifacts=root / "mlartifacts",
            host=host,
            port=port,
            workers=workers,
            log=log,
            check_url=check_url,
            allowed_hosts=None
            if public == host
            else f"{public},{public}:{port},localhost:{port},127.0.0.1:{port}",
            timeout=timeout,
        )
        state["timings"]["mlflow_s"] = round(time.monotonic() - started, 1)
    state["mlflow"] = {"pid": pid, "port": port, "log": str(log), "artifacts": str(root / "mlartifacts")}
    if not state["timings"]:
        state["timings"] = old.get("timings", {})
    _save_state(settings, state)
    return Team(status(settings), _other_machines(state, secrets), root / SECRETS)


def _flag(name: str) -> str:
    return {"postgres": "pg-port", "labelstudio": "ls-port", "mlflow": "mlflow-port"}[name]


def status(settings: Settings | None = None) -> list[Service]:
    """Each service: running or not, its URL, pid and log."""
    from annotation import server as ls_server

    settings = settings or get_settings()
    state = _load_state(settings)
    host = state.get("host", "127.0.0.1")
    out = []
    db = state.get("database", {})
    if db.get("external"):
        out.append(
            Service("postgres", _reachable(db["host"], db["port"]), f"{db['host']}:{db['port']}", None, None)
        )
    else:
        cluster = postgres.Cluster(team_dir(settings) / "postgres")
        port = state.get("postgres", {}).get("port", DEFAULT_PORTS["postgres"])
        pid = cluster.pid() if cluster.initialised() else None
        out.append(Service("postgres", pid is not None, f"{_public(host)}:{port}", pid, cluster.log))
    ls = ls_server.status(settings, data_dir=team_dir(settings) / "labelstudio")
    ls_port = state.get("labelstudio", {}).get("port", DEFAULT_PORTS["labelstudio"])
    out.append(Service("labelstudio", ls.running, f"http://{_public(host)}:{ls_port}", ls.pid, ls.log))
    ml = state.get("mlflow", {})
    ml_port = ml.get("port", DEFAULT_PORTS["mlflow"])
    running = alive(ml.get("pid")) and mlflow_server.healthy(f"http://{_local(host)}:{ml_port}")
    out.append(
        Service(
            "mlflow",
            running,
            f"http://{_public(host)}:{ml_port}",
            ml.get("pid") if running else None,
            team_dir(settings) / "mlflow.log",
        )
    )
    return out


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def down(settings: Settings | None = None) -> list[str]:
    """Stop MLflow, Label Studio and the stack's own PostgreSQL; the names of those stopped."""
    from annotation import server as ls_server

    settings = settings or get_settings()
    state = _load_state(settings)
    stopped = []
    pid = state.get("mlflow", {}).get("pid")
    if alive(pid):
        _kill_group(pid)
        stopped.append("mlflow")
    if ls_server.stop(settings, data_dir=team_dir(settings) / "labelstudio"):
        stopped.append("labelstudio")
    cluster = postgres.Cluster(team_dir(settings) / "postgres")
    if not state.get("database", {}).get("external") and cluster.initialised() and cluster.stop():
        stopped.append("postgres")
    return stopped


def env(settings: Settings | None = None, out: Path | None = None) -> dict[str, str]:
    """The settings another machine sets (real values); written to ``out`` (0600) when given."""
    settings = settings or get_settings()
    state = _load_state(settings)
    if not state.get("mlflow"):
        raise NewslabError("no team stack here yet.", "Start it with `newslab team up`.")
    values = _other_machines(state, passwords.load(team_dir(settings) / SECRETS))
    if out is not None:
        lines = [f"export {k}={shlex.quote(v)}" for k, v in values.items()]
        passwords.write_private(Path(out), "\n".join(lines) + "\n")
    return values
