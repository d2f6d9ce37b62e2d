"""`newslab team`: PostgreSQL, Label Studio and an MLflow server, started once for the module."""

from __future__ import annotations

import json
import os
import shutil
import signal
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
from tests.conftest import PG_BIN, PilotModels, free_port, pilot_copy, run_cli, spawn_cli

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


def test_migrate_copies_the_embedded_mlflow_store_to_the_team_server(
    stack: Stack, pilot_models: PilotModels
) -> None:
    import sqlite3

    from mlflow.tracking import MlflowClient

    from newslab.team.stack import env

    # this data directory's embedded store: the pilot's runs and champions (a consistent copy)
    with (
        sqlite3.connect(pilot_models.settings.mlflow_db) as src,
        sqlite3.connect(stack.settings.mlflow_db) as dst,
    ):
        src.backup(dst)
    done = run_cli("team", "migrate", "--no-labelstudio", env=stack.env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MLflow checksum same" in done.stdout
    report = json.loads(sorted((stack.team / "migrations").glob("*.json"))[-1].read_text())
    assert report["mlflow"]["lossless"] and report["mlflow"]["runs_copied"] >= 2
    server = MlflowClient(tracking_uri=env(stack.settings)["NEWSLAB_TRACKING_URI"])
    champions = [m for m in server.search_registered_models() if "champion" in m.aliases]
    assert len(champions) == 2
    for secret in stack.secrets.values():
        assert secret not in done.stdout + done.stderr


def _team_conn(stack: Stack):  # type: ignore[no-untyped-def]
    from annotation.client import Connection
    from newslab.team.stack import env

    values = env(stack.settings)
    return Connection(values["NEWSLAB_LS_URL"], values["LABEL_STUDIO_API_KEY"])


def _pid(stack: Stack, name: str) -> int:
    from newslab.team.stack import status

    pid = next(s.pid for s in status(stack.settings) if s.name == name)
    assert pid
    return pid


def test_label_studio_killed_mid_push_then_the_same_push_adds_exactly_the_missing_tasks(stack: Stack) -> None:
    from annotation.projects import find_projects, setup
    from annotation.push import ArticleRow, list_tasks, make_tasks, push, task_key
    from core.errors import NewslabError
    from core.schema import load_schema
    from newslab.team.stack import status, up

    conn, schema = _team_conn(stack), load_schema()
    settings = stack.settings.model_copy(update={"ls_project_prefix": "tfault"})
    setup(conn, schema, settings=settings)
    project = next(p for p in find_projects(conn, schema, settings) if p.task == "event_type")
    articles = [
        ArticleRow(f"f{i:03d}", f"T{i}", f"{i}. Ministers met in Rome and talked.", "en") for i in range(30)
    ]
    tasks = make_tasks(schema, "event_type", articles)
    others = {s.name: s.pid for s in status(stack.settings) if s.name != "labelstudio"}
    ls_pid = _pid(stack, "labelstudio")

    def kill_after_the_first_batch(_: int) -> None:
        if alive(ls_pid):
            os.killpg(ls_pid, signal.SIGKILL)

    with pytest.raises(NewslabError, match=r"stopped after 10 new task\(s\)") as caught:
        push(conn, project, tasks, batch_size=10, on_progress=kill_after_the_first_batch, settings=settings)
    assert "run the same push again" in str(caught.value.hint)
    up(stack.settings)  # Label Studio back on its PostgreSQL; PostgreSQL and MLflow untouched
    assert {s.name: s.pid for s in status(stack.settings) if s.name != "labelstudio"} == others
    again = push(conn, project, tasks, batch_size=10, settings=settings)
    assert (again.added, again.existing) == (20, 10)
    keys = [task_key(data) for _, data in list_tasks(conn, project.id)]
    assert sorted(keys) == sorted(task_key(d) for d in tasks)  # every task, each once


def test_mlflow_server_killed_mid_training_fails_cleanly_and_the_rerun_marks_the_run_failed(
    stack: Stack, pilot_models: PilotModels, tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient

    from newslab.team.stack import env, up

    uri = env(stack.settings)["NEWSLAB_TRACKING_URI"]
    client = MlflowClient(tracking_uri=uri)
    run_env = {
        "NEWSLAB_DATA_DIR": str(pilot_copy(pilot_models, tmp_path / "data")),
        "NEWSLAB_TRACKING_URI": uri,
        # MLflow retries a dead server for minutes by default; a test need not wait that long
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
    }
    training = spawn_cli("train", "run", "pilot_stance_lr", env=run_env)
    mlflow_pid = _pid(stack, "mlflow")
    deadline = time.monotonic() + 180
    running = []
    while not running and training.poll() is None and time.monotonic() < deadline:
        ids = [e.experiment_id for e in client.search_experiments()]
        found = client.search_runs(ids, "attributes.status = 'RUNNING'") if ids else []
        running = [r for r in found if "newslab.migrated_from" not in r.data.tags]  # not a copy
        time.sleep(0.05)
    assert running, "the training run never started on the server"
    os.killpg(mlflow_pid, signal.SIGKILL)
    out, err = training.communicate(timeout=300)
    assert training.returncode == 1, out + err
    assert "stopped answering during the run" in err and "Traceback" not in err, err
    up(stack.settings)  # the tracking server back, same store
    cut_short = running[0].info.run_id
    assert client.get_run(cut_short).info.status == "RUNNING"  # nobody could tell the dead server
    again = run_cli("train", "run", "pilot_stance_lr", env=run_env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert client.get_run(cut_short).info.status == "FAILED"  # reaped: its process is gone
    finished = client.search_runs([running[0].info.experiment_id], "attributes.status = 'FINISHED'")
    assert [r.info.run_name for r in finished if r.info.start_time > running[0].info.start_time] == [
        "pilot-stance-pair-lr"
    ]  # the re-run, once


SWEEP = """\
name: team-sweep
task: stance
dataset: pilot/stance
seed: 13
model:
  type: tfidf_lr
  params: {word_ngram_max: 1, max_features: 300}
sweep:
  trials: 6
  metric: macro_f1
  folds: 3
  space:
    C: {low: 0.01, high: 10.0, log: true}
"""


def test_postgresql_restarted_mid_sweep_the_trials_go_on(
    stack: Stack, pilot_models: PilotModels, tmp_path: Path
) -> None:
    import optuna

    from newslab.team import postgres
    from newslab.team.stack import env

    values = env(stack.settings)
    config = tmp_path / "team-sweep.yaml"
    config.write_text(SWEEP)
    run_env = {
        "NEWSLAB_DATA_DIR": str(pilot_copy(pilot_models, tmp_path / "data")),
        "NEWSLAB_TRACKING_URI": values["NEWSLAB_TRACKING_URI"],
        "NEWSLAB_OPTUNA_STORAGE": values["NEWSLAB_OPTUNA_STORAGE"],
    }
    sweeping = spawn_cli("train", "run", str(config), "--sweep", env=run_env)

    def complete() -> int:
        try:
            summaries = optuna.get_all_study_summaries(values["NEWSLAB_OPTUNA_STORAGE"])
        except Exception:  # the database restarting
            return -1
        return sum(s.n_trials for s in summaries if s.study_name.startswith("team-sweep@"))

    deadline = time.monotonic() + 240
    while complete() < 2 and sweeping.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sweeping.poll() is None, "the sweep ended before PostgreSQL could be restarted"
    cluster = postgres.Cluster(stack.team / "postgres")
    port = json.loads((stack.team / "stack.json").read_text())["postgres"]["port"]
    assert cluster.stop()
    cluster.start("127.0.0.1", port)
    out, err = sweeping.communicate(timeout=600)
    assert sweeping.returncode == 0, out + err
    assert "Traceback" not in err, err
    study = next(
        s
        for s in optuna.get_all_study_summaries(values["NEWSLAB_OPTUNA_STORAGE"])
        if s.study_name.startswith("team-sweep@")
    )
    trials = optuna.load_study(study_name=study.study_name, storage=values["NEWSLAB_OPTUNA_STORAGE"]).trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 6
    for secret in stack.secrets.values():
        assert secret not in out + err


def test_migration_copies_projects_and_annotations_with_their_provenance(
    stack: Stack, ls, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from annotation.prelabel import prediction
    from annotation.projects import find_projects, setup
    from annotation.pull import export_snapshot, read_snapshot
    from annotation.push import ArticleRow, existing_tasks, make_tasks, push
    from annotation.users import annotator_connection, ensure_annotators
    from core.schema import load_schema
    from newslab.team.migrate import migrate_labelstudio

    settings, source = ls
    schema = load_schema()
    setup(source, schema, settings=settings)
    project = next(p for p in find_projects(source, schema, settings) if p.task == "event_type")
    articles = [
        ArticleRow(f"m{i:03d}", f"T{i}", f"{i}. Troops crossed the border at dawn.", "en") for i in range(8)
    ]
    tasks = make_tasks(schema, "event_type", articles)
    codes = schema.task("event_type").codes
    predictions = {d["article_id"]: prediction("event_type", [codes[0]], 0.7, "m/1") for d in tasks[:4]}
    push(source, project, tasks, predictions=predictions, settings=settings)
    ids = sorted(v["id"] for v in existing_tasks(source, project.id).values())
    people = ensure_annotators(
        source, [f"{settings.ls_project_prefix}-{k}@example.org" for k in range(2)], settings
    )

    def result(label: str) -> list[dict]:
        return [
            {"from_name": "event_type", "to_name": "text", "type": "choices", "value": {"choices": [label]}}
        ]

    for k, person in enumerate(people):
        own = annotator_connection(source, person.email, settings).client()
        for j, task_id in enumerate(ids[:6]):
            own.annotations.create(id=task_id, result=result(codes[(j + k) % len(codes)]), lead_time=1.5 + j)
    admin = source.client()
    admin.annotations.create(id=ids[6], result=[], was_cancelled=True)  # a skip
    dest_settings = settings.model_copy(update={"data_dir": tmp_path / "data"})
    members = tmp_path / "team-annotators.json"

    checks = migrate_labelstudio(source, _team_conn(stack), schema, dest_settings, members)
    assert [c.ok for c in checks] == [True] * len(checks), checks
    events = next(c for c in checks if c.title == project.title)
    assert (events.before.tasks, events.before.records, events.added) == (8, 12 + 1 + 4, 8)
    assert stat.S_IMODE(members.stat().st_mode) == 0o600

    dest = _team_conn(stack)
    copy = next(p for p in find_projects(dest, schema, dest_settings) if p.title == project.title)
    source_ids = {
        a["id"]
        for t in read_snapshot(export_snapshot(source, project, settings).path)
        for a in t["annotations"]
    }
    copied = read_snapshot(export_snapshot(dest, copy, dest_settings).path)
    assert {a["import_id"] for t in copied for a in t["annotations"]} == source_ids  # provenance kept
    assert {a["completed_by"]["email"] for t in copied for a in t["annotations"]} >= {p.email for p in people}

    # resumable: a task lost on the team server (a migration cut short) is added again, alone
    lost = existing_tasks(dest, copy.id)["m003"]["id"]
    dest.client().tasks.delete(id=lost)
    again = migrate_labelstudio(source, dest, schema, dest_settings, members)
    assert [(c.added, c.ok) for c in again if c.title == project.title] == [(1, True)]


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
