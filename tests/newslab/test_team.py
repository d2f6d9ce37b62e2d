"""`newslab team`: PostgreSQL, Label Studio and an MLflow server, started once for the module."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core.processes import alive
from core.settings import Settings
from tests.conftest import PG_BIN, free_port, run_cli

pytestmark = [pytest.mark.server, pytest.mark.slow]


@dataclass
class Stack:
    settings: Settings
    env: dict[str, str]
    up: subprocess.CompletedProcess[str]
    secrets: dict[str, str] = field(repr=False)  # never in a failure's report

    @property
    def team(self) -> Path:
        return self.settings.data_dir / "team"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN}")
    # not under pytest's tmp dirs: those are private to root, and the cluster runs as postgres
    root = Path(tempfile.mkdtemp(prefix="newslab-team-"))
    root.chmod(0o755)
    data = root / "data"
    env = {"NEWSLAB_DATA_DIR": str(data)}
    ports = ["--pg-port", str(free_port()), "--ls-port", str(free_port()), "--mlflow-port", str(free_port())]
    settings = Settings(data_dir=data)
    try:
        up = run_cli("team", "up", *ports, env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        secrets = json.loads((data / "team" / "secrets.json").read_text())
        yield Stack(settings, env, up, secrets)
    finally:
        from newslab.team import stack as team_stack

        team_stack.down(settings)
        shutil.rmtree(root, ignore_errors=True)


def test_up_starts_three_services_and_again_changes_nothing(stack: Stack) -> None:
    from newslab.team.stack import status

    before = {s.name: s for s in status(stack.settings)}
    assert {name: s.running for name, s in before.items()} == {
        "postgres": True,
        "labelstudio": True,
        "mlflow": True,
    }
    again = run_cli("team", "up", env=stack.env)
    assert again.returncode == 0, again.stderr
    after = {s.name: s for s in status(stack.settings)}
    assert {n: s.pid for n, s in after.items()} == {n: s.pid for n, s in before.items()}
    assert run_cli("team", "status", env=stack.env).returncode == 0
    for key in ("NEWSLAB_LS_URL", "LABEL_STUDIO_API_KEY", "NEWSLAB_TRACKING_URI", "NEWSLAB_OPTUNA_STORAGE"):
        assert key in stack.up.stdout
    assert (stack.team / "secrets.json").stat().st_mode & 0o777 == 0o600


def test_label_studio_keeps_projects_in_postgresql(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    from annotation.client import connect
    from annotation.projects import setup
    from core.schema import load_schema
    from newslab.team.stack import env, status

    values = env(stack.settings)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", values["LABEL_STUDIO_API_KEY"])
    settings = stack.settings.model_copy(
        update={"ls_url": values["NEWSLAB_LS_URL"], "ls_project_prefix": "tteam"}
    )
    conn = connect(settings)
    made = setup(conn, load_schema(), settings=settings)
    port = next(s for s in status(stack.settings) if s.name == "postgres").url.rsplit(":", 1)[1]
    with psycopg.connect(
        host="127.0.0.1", port=int(port), user="newslab_ls", password=stack.secrets["ls"], dbname="newslab_ls"
    ) as db:
        titles = {row[0] for row in db.execute("SELECT title FROM project")}
    assert made and {r.project.title for r in made} <= titles


def test_mlflow_server_logs_runs_and_artifacts(stack: Stack, tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    from newslab.team.stack import env

    client = MlflowClient(tracking_uri=env(stack.settings)["NEWSLAB_TRACKING_URI"])
    experiment = client.create_experiment("team-test")
    run = client.create_run(experiment)
    client.log_param(run.info.run_id, "lr", "0.1")
    note = tmp_path / "note-team.txt"
    note.write_text("hello")
    client.log_artifact(run.info.run_id, str(note))
    client.set_terminated(run.info.run_id)
    assert client.get_run(run.info.run_id).data.params == {"lr": "0.1"}
    assert list((stack.team / "mlartifacts").rglob("note-team.txt"))
    logged = client.get_run(run.info.run_id).data
    text = json.dumps({"params": logged.params, "tags": logged.tags})
    for secret in stack.secrets.values():
        assert secret not in text


def test_no_secret_in_stdout_or_logs(stack: Stack) -> None:
    out = stack.up.stdout + stack.up.stderr
    assert "***" in out  # the token and the Optuna password, masked
    logs = {p: p.read_text(errors="replace") for p in stack.team.rglob("*.log")}
    assert {p.name for p in logs} >= {"postgres.log", "server.log", "mlflow.log"}
    for secret in stack.secrets.values():
        assert secret not in out
        for path, text in logs.items():
            assert secret not in text, path
    state = (stack.team / "stack.json").read_text()
    assert not [name for name, secret in stack.secrets.items() if secret in state]


def test_env_out_writes_the_real_values_0600(stack: Stack, tmp_path: Path) -> None:
    target = tmp_path / "team.env"
    done = run_cli("team", "env", "--out", str(target), env=stack.env)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    text = target.read_text()
    assert stack.secrets["ls_token"] in text and stack.secrets["optuna"] in text
    assert stack.secrets["ls_token"] not in done.stdout and stack.secrets["optuna"] not in done.stdout
    values = dict(line.removeprefix("export ").split("=", 1) for line in text.splitlines())
    assert values["NEWSLAB_OPTUNA_STORAGE"].startswith("postgresql+psycopg://newslab_optuna:")


def test_down_stops_everything(stack: Stack) -> None:
    from newslab.team.stack import status

    pids = [s.pid for s in status(stack.settings)]
    assert all(pids)
    done = run_cli("team", "down", env=stack.env)
    assert done.returncode == 0, done.stderr
    assert "mlflow, labelstudio, postgres" in done.stdout
    assert not any(s.running for s in status(stack.settings))
    assert run_cli("team", "status", env=stack.env).returncode == 1
    deadline = time.monotonic() + 10  # a postmaster removes its pid file just before it exits
    while [pid for pid in pids if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in pids if alive(pid)]


def test_a_port_in_use_or_missing_binaries_stop_up_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from core.errors import NewslabError
    from newslab.team import postgres, stack

    monkeypatch.delenv("NEWSLAB_DATABASE_URL", raising=False)
    settings = Settings(data_dir=tmp_path / "data")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(NewslabError, match=f"port {port} on 127.0.0.1 is in use") as caught:
            stack.up(settings, ls_port=port, pg_port=free_port(), mlflow_port=free_port())
    assert "--ls-port" in str(caught.value.hint)
    monkeypatch.setattr(postgres, "PG_BIN", tmp_path / "nowhere")
    monkeypatch.setattr(postgres.shutil, "which", lambda name: None)
    with pytest.raises(NewslabError, match=r"binaries .* not found") as caught:
        stack.up(settings, pg_port=free_port(), ls_port=free_port(), mlflow_port=free_port())
    assert "NEWSLAB_DATABASE_URL" in str(caught.value.hint)
    assert not (settings.data_dir / "team" / "postgres").exists()
