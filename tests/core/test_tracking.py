"""core.tracking against real stores: parallel first use of a SQLite store, stores that are down,
runs whose process died, and passwords kept out of messages."""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core import tracking
from core.errors import NewslabError
from core.settings import Settings, get_settings


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _first_use(data_dir: str, n: int, start: float, locked: bool) -> None:
    """One `newslab train`'s use of a store: connect, make an experiment, log a run."""
    os.environ["NEWSLAB_DATA_DIR"] = data_dir
    os.environ.pop("NEWSLAB_TRACKING_URI", None)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    if not locked:  # the store as it was opened before the lock: by whichever call came first
        tracking.create_store = lambda uri: None
    get_settings.cache_clear()
    time.sleep(max(0.0, start - time.time()))  # all processes open the new store at once
    import mlflow

    tracking.connect()
    tracking.ensure_experiment(f"race-{n}")
    with mlflow.start_run(tags=tracking.owner_tags()):
        mlflow.log_param("n", n)


def _race(data_dir: Path, locked: bool, n: int = 3) -> list[int]:
    ctx = multiprocessing.get_context("spawn")
    start = time.time() + 8  # after every spawned interpreter has imported mlflow
    procs = [ctx.Process(target=_first_use, args=(str(data_dir), i, start, locked)) for i in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    return [p.exitcode for p in procs]


@pytest.mark.slow
def test_parallel_first_runs_on_a_new_sqlite_store_all_succeed(settings: Settings) -> None:
    assert _race(settings.data_dir, locked=True) == [0, 0, 0]
    import mlflow

    tracking.connect(settings)  # a fourth use finds the store whole
    tracking.ensure_experiment("after")
    with mlflow.start_run():
        mlflow.log_param("ok", 1)
    runs = mlflow.search_runs(search_all_experiments=True, output_format="list")
    assert len(runs) == 4


def test_postgresql_uri_with_no_server_fails_fast_with_the_password_masked() -> None:
    uri = f"postgresql+psycopg://newslab:s3cretpw@127.0.0.1:{_closed_port()}/mlflow"
    started = time.monotonic()
    with pytest.raises(NewslabError) as caught:
        tracking.check_server(uri, timeout=2)
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert "postgresql" in message and "not reachable" in message
    assert "s3cretpw" not in message and "newslab:***@" in message
    assert len(caught.value.message.splitlines()) == 1


def test_postgresql_that_answers_passes(postgres: str) -> None:
    tracking.check_server(postgres, timeout=5)


def test_http_server_down_is_one_line_without_the_password() -> None:
    uri = f"http://user:hunter22@127.0.0.1:{_closed_port()}"
    with pytest.raises(NewslabError) as caught:
        tracking.check_server(uri, timeout=2)
    assert "hunter22" not in str(caught.value) and "MLflow server" in caught.value.message
    assert len(caught.value.message.splitlines()) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in any folder")
def test_sqlite_store_in_an_unwritable_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(NewslabError, match=r"\(sqlite\) is not reachable.*not writable"):
            tracking.check_server(f"sqlite:///{folder / 'mlflow.db'}")
    finally:
        folder.chmod(0o700)


def test_sqlite_store_under_a_file_is_refused(tmp_path: Path) -> None:
    """What root cannot write in either: a folder that would have to be made under a file."""
    (tmp_path / "file").write_text("")
    with pytest.raises(NewslabError, match=r"\(sqlite\) is not reachable.*cannot create"):
        tracking.check_server(f"sqlite:///{tmp_path / 'file' / 'sub' / 'mlflow.db'}")


def test_secrets_never_reach_params_or_tags() -> None:
    values = tracking.safe({"storage": "postgresql://u:pw1234@h/db", "n": 3})
    assert values == {"storage": "postgresql://u:***@h/db", "n": 3}


def test_a_run_whose_process_died_is_reaped(settings: Settings) -> None:
    import mlflow
    from mlflow import MlflowClient

    tracking.connect(settings)
    experiment_id = tracking.ensure_experiment("reap")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    client = MlflowClient()
    orphan = client.create_run(
        experiment_id, tags={tracking.PID_TAG: dead.stdout.strip(), tracking.HOST_TAG: socket.gethostname()}
    )
    elsewhere = client.create_run(
        experiment_id, tags={tracking.PID_TAG: "1", tracking.HOST_TAG: "another-host"}
    )
    with mlflow.start_run(tags=tracking.owner_tags()) as mine:
        assert tracking.reap(experiment_id) == [orphan.info.run_id]
        assert client.get_run(mine.info.run_id).info.status == "RUNNING"
    reaped = client.get_run(orphan.info.run_id)
    assert reaped.info.status == "FAILED" and tracking.REAPED_TAG in reaped.data.tags
    assert client.get_run(elsewhere.info.run_id).info.status == "RUNNING"
