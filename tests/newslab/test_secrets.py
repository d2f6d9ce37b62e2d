"""No password in any URI reaches the terminal or MLflow, whatever the command prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import free_port, run_cli

PASSWORD = "Pw-7f3a9c-SECRET"
TOKEN = "tok-2b8e41-SECRET"


def _with_password(url: str, database: str) -> str:
    head, _, rest = url.partition("://")
    user, _, host = rest.partition("@")
    return f"{head}://{user}:{PASSWORD}@{host.rsplit('/', 1)[0]}/{database}"


@pytest.fixture()
def secret_env(postgres: str, tmp_path: Path) -> dict[str, str]:
    """Credentials in every URI newslab reads: MLflow on PostgreSQL (trust auth ignores the
    password, so the store works), Label Studio, the upstream mirror; and a token in the env."""
    import psycopg

    database = f"secrets_{tmp_path.name[-12:].replace('-', '_').lower()}"
    with psycopg.connect(postgres.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    closed = free_port()
    return {
        "NEWSLAB_DATA_DIR": str(tmp_path / "data"),
        "NEWSLAB_TRACKING_URI": _with_password(postgres, database),
        "NEWSLAB_LS_URL": f"http://annotator:{PASSWORD}@127.0.0.1:{closed}",
        "NEWSLAB_UPSTREAM_BASE_URL": f"http://mirror:{PASSWORD}@127.0.0.1:{closed}",
        "LABEL_STUDIO_USER_TOKEN": TOKEN,
        "MLFLOW_TRACKING_URI": "",
    }


@pytest.mark.slow
@pytest.mark.server
def test_no_command_prints_or_logs_a_password(
    secret_env: dict[str, str], shared: Path, tmp_path: Path
) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("experiments: [cameo_tfidf_lr]\n")
    dead_store = {
        **secret_env,
        "NEWSLAB_TRACKING_URI": _with_password(
            f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x", "x"
        ),
    }
    no_mirror = {**secret_env, "NEWSLAB_MIRROR_DIR": str(tmp_path / "no-mirror")}
    commands = [
        (["run", "--config", str(config), "--limit", "30"], secret_env, 0),
        (["eval", "results"], secret_env, 0),
        (["eval", "run", "0123456789abcdef0123456789abcdef"], secret_env, 1),
        (["train", "cameo_tfidf_lr"], dead_store, 1),
        (["annotate", "status"], secret_env, 1),
        (["assets", "fetch", "wikinews_en"], no_mirror, 1),
    ]
    seen = []
    for args, env, code in commands:
        result = run_cli(*args, env=env)
        output = result.stdout + result.stderr
        seen.append(f"$ newslab {' '.join(args)}\n{output}")
        assert result.returncode == code, "\n".join(seen)
        assert PASSWORD not in output and TOKEN not in output, "\n".join(seen)
        assert "Traceback" not in output, "\n".join(seen)
    assert "***@" in "\n".join(seen)  # the URIs are shown, masked

    import mlflow

    client = mlflow.MlflowClient(secret_env["NEWSLAB_TRACKING_URI"])
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert runs
    for run in runs:
        logged = " ".join([*run.data.params.values(), *run.data.tags.values()])
        assert PASSWORD not in logged and TOKEN not in logged
