"""Training and MLflow under attack: a migration race, kills mid-logging, dead stores, secrets,
bad numbers in configs, a tampered model."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import sys
import time
from pathlib import Path

from _faults.harness import Context, Row, case, finish, result_of, row, wait_for

EXPERIMENT = "cameo_tfidf_lr"
DATASET = "cameo_pentacode"
PASSWORD = "Pw-SECRET-91"


def with_dataset(ctx: Context, name: str) -> Path:
    """A fresh data folder holding the built CAMEO dataset (built once, copied per case)."""
    base = ctx.workdir / "_base" / "data"
    if not (base / "datasets" / DATASET).exists():
        result = ctx.cli(base, "dataset", "build", DATASET)
        if result.rc != 0:
            raise RuntimeError(f"could not build {DATASET}: {result.message}")
    data = ctx.data(name)
    shutil.copytree(base / "datasets", data / "datasets", symlinks=True, dirs_exist_ok=True)
    return data


def run_states(db: Path) -> list[str]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return [r[0] for r in conn.execute("select status from runs")]
    except sqlite3.Error:
        return []


@case("train: 3 copies at once on a new SQLite MLflow store")
def migration_race(ctx: Context) -> Row:
    data = with_dataset(ctx, "migration_race")
    started = time.monotonic()
    procs = [ctx.start(data, "train", EXPERIMENT) for _ in range(3)]
    results = [finish(p, started) for p in procs]
    later = ctx.cli(data, "train", EXPERIMENT)
    finished = run_states(data / "mlflow.db").count("FINISHED")
    worst = next((r for r in results if r.rc != 0), later)
    return row(
        "train: 3 at once on a new SQLite store",
        worst,
        f"exits {[r.rc for r in results]}, later train exit {later.rc}; {finished} finished runs",
        lost=finished < 4 or later.rc != 0,
    )


@case("train: SIGKILL while logging to MLflow")
def killed_mid_logging(ctx: Context) -> Row:
    data = with_dataset(ctx, "killed_run")
    db = data / "mlflow.db"
    first = ctx.cli(data, "train", EXPERIMENT)  # a finished run to compare with
    proc = ctx.start(data, "train", EXPERIMENT)
    wait_for(lambda: run_states(db).count("RUNNING") > 0 or proc.poll() is not None, timeout=120, every=0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    before = run_states(db)
    results = ctx.cli(data, "eval", "results")
    after = run_states(db)
    return row(
        "train: SIGKILL mid-logging",
        results,
        f"runs before the next command {sorted(before)}, after `eval results` {sorted(after)}",
        lost=first.rc != 0 or "RUNNING" in after or results.rc != 0,
    )


@case("train: PostgreSQL tracking URI with no server")
def dead_postgres(ctx: Context) -> Row:
    from tests.conftest import free_port

    data = with_dataset(ctx, "dead_postgres")
    uri = f"postgresql+psycopg://newslab:{PASSWORD}@127.0.0.1:{free_port()}/mlflow"
    result = ctx.cli(data, "train", EXPERIMENT, NEWSLAB_TRACKING_URI=uri)
    return row(
        "train: PostgreSQL URI, no server",
        result,
        f"exit {result.rc} after {result.seconds:.1f} s; "
        f"password shown: {'YES' if PASSWORD in result.text else 'no'}",
        lost=PASSWORD in result.text,
    )


@case("secrets: URIs with passwords in messages")
def secrets(ctx: Context) -> Row:
    from tests.conftest import free_port

    data = ctx.data("secrets")
    port = free_port()
    shown = []
    for args, env in [
        (("eval", "results"), {"NEWSLAB_TRACKING_URI": f"http://u:{PASSWORD}@127.0.0.1:{port}/"}),
        (("eval", "run", "0" * 32), {}),
        (("annotate", "status"), {"NEWSLAB_LS_URL": f"http://u:{PASSWORD}@127.0.0.1:{port}"}),
    ]:
        result = ctx.cli(data, *args, **env)
        shown.append(result)
    leaked = [r for r in shown if PASSWORD in r.text]
    return row(
        "secrets: passwords in URIs",
        shown[0],
        f"{len(shown)} commands, password shown by {len(leaked)}",
        lost=bool(leaked),
    )


def _config_with(ctx: Context, data: Path, value: str) -> Path:
    from core.settings import PROJECT_DIR

    text = (PROJECT_DIR / "configs" / "experiments" / f"{EXPERIMENT}.yaml").read_text()
    path = data.parent / f"c_{abs(hash(value))}.yaml"
    path.write_text(text.replace("C: 10.0", f"C: {value}"))
    return path


@case("train: C: true / C: .inf in a config")
def strict_numbers(ctx: Context) -> Row:
    data = with_dataset(ctx, "strict_numbers")
    results = [ctx.cli(data, "train", str(_config_with(ctx, data, v))) for v in ("true", ".inf")]
    trained = run_states(data / "mlflow.db")
    return row(
        "train: C: true / C: .inf",
        results[0],
        f"exits {[r.rc for r in results]}; runs trained {len(trained)}",
        lost=False,
    )


LOAD = """
import sys
from core import tracking
from core.errors import NewslabError
from training.loading import load_model
tracking.connect()
try:
    load_model(sys.argv[1])
except NewslabError as exc:
    print("error:", exc.message)
    sys.exit(1)
print("loaded")
"""


@case("model: a skops file in the store holding os.system")
def tampered_model(ctx: Context) -> Row:
    import subprocess
    from urllib.parse import urlparse

    data = with_dataset(ctx, "tampered")
    trained = ctx.cli(data, "train", EXPERIMENT)
    if trained.rc != 0:
        raise RuntimeError(f"training failed: {trained.message}")
    env = ctx.env(data)
    code = (
        "import mlflow, yaml, pathlib\n"
        "from core import tracking\n"
        "tracking.connect()\n"
        "run = mlflow.search_runs(search_all_experiments=True, output_format='list')[0]\n"
        "model = mlflow.get_logged_model(run.outputs.model_outputs[0].model_id)\n"
        "print(model.model_uri, model.artifact_location)\n"
    )
    found = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    uri, location = found.stdout.split()[-2:]
    folder = Path(urlparse(location).path)
    evil = (
        "import os, sys, yaml, skops.io\n"
        "from sklearn.pipeline import Pipeline\n"
        "from sklearn.preprocessing import FunctionTransformer\n"
        "folder = sys.argv[1]\n"
        "spec = yaml.safe_load(open(folder + '/MLmodel'))\n"
        "skops.io.dump(Pipeline([('run', FunctionTransformer(os.system))]),"
        " folder + '/' + spec['flavors']['python_function']['artifacts']['estimator']['path'])\n"
    )
    subprocess.run([sys.executable, "-c", evil, str(folder)], env=env, check=True)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", LOAD, uri], env=env, capture_output=True, text=True)
    result = result_of(done.returncode, done.stdout, done.stderr, time.monotonic() - start)
    return row("model: tampered skops file", result, f"load exit {result.rc}", lost=result.rc == 0)
