"""Benchmark: concurrent annotators against Label Studio on SQLite and on PostgreSQL; nothing lost.

For each store (``sqlite``: the local default, ``annotate serve``; ``postgres``: the team stack,
``newslab team up``), in a throw-away data directory on loopback:
  1. one event-type project, ``--tasks`` tasks pushed, N annotator accounts;
  2. N simulated annotators (threads, each with its own token) submit ``--per-annotator``
     annotations each at a realistic pace (``--pace`` seconds between submissions, jittered),
     while a second ``push`` adds more tasks and a ``pull`` exports the project mid-way;
  3. a final ``pull``: every submitted annotation must be in it exactly once (lost = 0,
     duplicated = 0).
Prints annotations/s, p50/p95 latency per submission, errors, lost and duplicated, per store and
number of annotators, side by side. Bounded: at most N x per-annotator submissions per row.

Then, per store, a sweep part (``--no-sweep`` skips it, ``--sweep-only`` skips the annotators):
two worker processes ``newslab train CONFIG --sweep --trials K`` share one Optuna study
(``sqlite``: ``sqlite:///DATA/optuna.db`` and the embedded SQLite MLflow store; ``postgres``: the
team stack's Optuna database and MLflow server), on the ``pilot`` dataset (built once, or
``--sweep-data``) with a small ``sweep:`` config (or ``--sweep-config``). Prints the trials the
study holds, wall time, trials/s, the workers' exit codes and errors (``database is locked``
counted), whether the trial numbers are unique and 2 x K trials completed (nothing lost, nothing
duplicated), and whether the MLflow trial runs (nested, tagged ``newslab.sweep``) match the trials.

    .venv/bin/python bench/load.py                                  # 5, 20, 50 annotators
    .venv/bin/python bench/load.py --annotators 2 --per-annotator 3 --stores sqlite
    .venv/bin/python bench/load.py --sweep-only --sweep-trials 6
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))


@dataclass
class Row:
    store: str
    annotators: int
    submitted: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    mid_pull_rows: int = 0


@dataclass
class SweepRow:
    store: str
    trials_per_worker: int
    storage: str = ""  # redacted
    tracking: str = ""  # redacted
    study: str = ""
    exit_codes: list[int | None] = field(default_factory=list)
    seconds: float = 0.0  # the two workers, start to both exited (final training and eval included)
    trial_seconds: float = 0.0  # the first trial's start to the last trial's end
    states: dict[str, int] = field(default_factory=dict)
    numbers_unique: bool = False
    locked: int = 0  # "database is locked" in the workers' output
    mlflow_trial_runs: int = 0
    mlflow_trial_names_unique: bool = False
    timed_out: bool = False
    note: str = ""

    @property
    def complete(self) -> int:
        return self.states.get("COMPLETE", 0)

    @property
    def errors(self) -> int:
        failed = sum(1 for code in self.exit_codes if code != 0)
        return failed + self.states.get("FAIL", 0) + self.locked


#: a small sweep on the pilot dataset (stance: the validation split scores each trial, no folds)
SWEEP_CONFIG = """\
name: bench-load-sweep
task: stance
dataset: pilot/stance
seed: 13
model:
  type: tfidf_pair_lr
  params: {word_ngram_max: 2, C: 1.0, class_weight: balanced}
sweep:
  trials: 6
  metric: macro_f1
  space:
    C: {low: 0.05, high: 20.0, log: true}
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(store: str, settings):  # type: ignore[no-untyped-def]
    """Start the store's Label Studio; the settings pointing at it, and how to stop it."""
    if store == "sqlite" and settings.ls_url:  # a running server given (the smoke test's)
        return settings, lambda: None
    if store == "sqlite":
        from annotation import server

        server.serve(settings)
        return settings, lambda: server.stop(settings)
    from newslab.team import stack

    stack.up(settings, pg_port=_free_port(), ls_port=settings.ls_port, mlflow_port=_free_port(), workers=1)
    values = stack.env(settings)
    os.environ["LABEL_STUDIO_API_KEY"] = values["LABEL_STUDIO_API_KEY"]

    def stop() -> None:
        stack.down(settings)
        os.environ.pop("LABEL_STUDIO_API_KEY", None)

    return settings.model_copy(update={"ls_url": values["NEWSLAB_LS_URL"]}), stop


def _choice(label: str) -> list[dict]:
    return [{"from_name": "event_type", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


@dataclass
class SweepSpec:
    trials: int  # per worker
    pilot: Path  # a data directory with the pilot dataset built
    config: str  # an experiment config (name or path) with a `sweep:` section
    timeout: float


def run_store(
    store: str,
    counts: list[int],
    per: int,
    tasks: int,
    pace: float,
    seed: int,
    url: str = "",
    sweep: SweepSpec | None = None,
    on_row=print,  # type: ignore[no-untyped-def]
) -> tuple[list[Row], SweepRow | None]:
    """Start the store once and run a row per number of annotators, each in a project of its own;
    then the store's sweep row (``sweep``)."""
    import uuid

    from core.settings import Settings

    prefix = f"load-{uuid.uuid4().hex[:6]}-"
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp).chmod(0o755)  # PostgreSQL runs as its own user, who must reach its cluster folder
        base = Settings(
            data_dir=Path(tmp) / "data", ls_port=_free_port(), ls_url=url if store == "sqlite" else ""
        )
        if store == "sqlite" and not counts:  # sweep only: no Label Studio needed
            settings, stop = base, lambda: None
        else:
            settings, stop = _start(store, base)
        try:
            rows = []
            for n in counts:
                row = run_row(
                    store,
                    settings.model_copy(update={"ls_project_prefix": f"{prefix}{n}"}),
                    n,
                    per,
                    tasks,
                    pace,
                    seed,
                )
                on_row(row)
                rows.append(row)
            swept = run_sweep(store, settings, Path(tmp) / "sweep", sweep) if sweep else None
            return rows, swept
        finally:
            stop()


def build_pilot(data_dir: Path) -> Path:
    """The pilot dataset built in ``data_dir`` (once: an existing build is reused)."""
    from core.settings import Settings
    from dataset.build import build

    if not (data_dir / "datasets" / "pilot").exists():
        build("pilot", settings=Settings(data_dir=data_dir))
    return data_dir


def _worker_env(data_dir: Path, tracking: str, storage: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "NEWSLAB_TRACKING_URI")}
    env.update(
        {
            "NEWSLAB_DATA_DIR": str(data_dir),
            "NEWSLAB_TRACKING_URI": tracking,
            "NEWSLAB_OPTUNA_STORAGE": storage,
            # the packages of this checkout, however the virtualenv was installed
            "PYTHONPATH": os.pathsep.join([str(PROJECT), os.environ.get("PYTHONPATH", "")]),
        }
    )
    return env


def _newslab() -> list[str]:
    script = Path(sys.executable).parent / "newslab"  # the console script of pyproject.toml
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from newslab.launch import main; main()"]


def run_sweep(store: str, settings, root: Path, spec: SweepSpec) -> SweepRow:  # type: ignore[no-untyped-def]
    """Two workers, one Optuna study: count what the study and MLflow hold afterwards."""

    from core.redact import redact
    from newslab.team import stack

    data_dir = root / "data"
    shutil.copytree(
        spec.pilot,
        data_dir,
        ignore=shutil.ignore_patterns(
            "mlflow.db*", "mlartifacts", "optuna.db*", "team", "labelstudio", "mlruns"
        ),
    )
    if store == "sqlite":
        tracking = f"sqlite:///{data_dir / 'mlflow.db'}"
        storage = f"sqlite:///{data_dir / 'optuna.db'}"
    else:
        values = stack.env(settings)
        tracking, storage = values["NEWSLAB_TRACKING_URI"], values["NEWSLAB_OPTUNA_STORAGE"]
    config = spec.config
    if config == "bench-load-sweep":
        (root / "bench-load-sweep.yaml").write_text(SWEEP_CONFIG)
        config = str(root / "bench-load-sweep.yaml")
    row = SweepRow(store, spec.trials, storage=redact(storage), tracking=redact(tracking))
    env = _worker_env(data_dir, tracking, storage)
    command = [*_newslab(), "train", config, "--sweep", "--trials", str(spec.trials)]
    logs = [root / f"worker{k}.log" for k in range(2)]
    started = time.perf_counter()
    workers = []
    for log in logs:
        with log.open("wb") as out:
            workers.append(
                subprocess.Popen(
                    command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
    deadline = time.monotonic() + spec.timeout
    for worker in workers:
        try:
            worker.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            row.timed_out = True
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
    row.seconds = time.perf_counter() - started
    row.exit_codes = [w.returncode for w in workers]
    outputs = [log.read_text(errors="replace") for log in logs]
    row.locked = sum(text.count("database is locked") for text in outputs)
    try:
        _count(row, storage, tracking, outputs)
    except Exception as exc:  # the study or the runs cannot be read: said, not raised
        row.note = f"counting failed: {redact(exc)}"
    if any(code != 0 for code in row.exit_codes):
        tails = [redact("\n".join(text.splitlines()[-3:])) for text in outputs]
        row.note = "worker output ends: " + " | ".join(tails)
    return row


def _count(row: SweepRow, storage: str, tracking: str, outputs: list[str]) -> None:
    """What the study and the MLflow store hold after the workers, into ``row``."""
    import optuna
    from mlflow.tracking import MlflowClient

    from core.redact import redact

    names = optuna.study.get_all_study_names(storage)  # a fresh storage: the workers' study only
    if len(names) != 1:
        row.note = f"{len(names)} studies in the storage"
        tails = [redact("\n".join(text.splitlines()[-3:])) for text in outputs]
        row.note += "; worker output ends: " + " | ".join(tails)
        return
    row.study = names[0]
    study = optuna.load_study(study_name=row.study, storage=storage)
    trials = study.get_trials(deepcopy=False)
    for trial in trials:
        row.states[trial.state.name] = row.states.get(trial.state.name, 0) + 1
    numbers = [t.number for t in trials]
    row.numbers_unique = len(numbers) == len(set(numbers))
    times = [t.datetime_start for t in trials if t.datetime_start] + [
        t.datetime_complete for t in trials if t.datetime_complete
    ]
    if times:
        row.trial_seconds = (max(times) - min(times)).total_seconds()
    client = MlflowClient(tracking_uri=tracking)
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(
        experiments, filter_string=f"tags.`newslab.sweep` = '{row.study}'", max_results=10_000
    )
    trial_runs = [
        r.info.run_name
        for r in runs
        if "mlflow.parentRunId" in r.data.tags and "-trial-" in (r.info.run_name or "")
    ]
    row.mlflow_trial_runs = len(trial_runs)
    row.mlflow_trial_names_unique = len(trial_runs) == len(set(trial_runs))


def run_row(store: str, settings, n: int, per: int, tasks: int, pace: float, seed: int) -> Row:  # type: ignore[no-untyped-def]
    from annotation.client import connect
    from annotation.projects import find_projects, setup
    from annotation.pull import pull
    from annotation.push import ArticleRow, existing_tasks, make_tasks, push
    from annotation.users import annotator_connection, ensure_annotators
    from core.schema import load_schema

    schema = load_schema()
    codes = schema.task("event_type").codes
    row = Row(store, n)
    conn = connect(settings)
    setup(conn, schema, None, settings)
    project = next(p for p in find_projects(conn, schema, settings) if p.task == "event_type")
    text = "Officials met in Rome and agreed to talk again. " * 30
    articles = [ArticleRow(f"a{i:05d}", f"T{i}", f"{i}. {text}", "en") for i in range(2 * tasks)]
    first, later = (
        make_tasks(schema, "event_type", articles[:tasks]),
        make_tasks(schema, "event_type", articles[tasks:]),
    )
    push(conn, project, first, settings=settings)
    ids = sorted(v["id"] for v in existing_tasks(conn, project.id).values())
    people = ensure_annotators(
        conn, [f"{settings.ls_project_prefix}-{k}@example.org" for k in range(n)], settings
    )
    done: dict[tuple[str, int], str] = {}
    lock = threading.Lock()

    def annotate(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        own = annotator_connection(conn, people[k].email, settings).client()
        for j in range(per):
            task_id = ids[(k * per + j) % len(ids)]
            label = rng.choice(codes)
            time.sleep(rng.uniform(0.5, 1.5) * pace)
            started = time.perf_counter()
            try:
                own.annotations.create(id=task_id, result=_choice(label))
            except Exception:  # counted: the figure is how many fail under load
                with lock:
                    row.errors += 1
                continue
            with lock:
                row.latencies.append(time.perf_counter() - started)
                done[(people[k].email, task_id)] = label

    threads = [threading.Thread(target=annotate, args=(k,)) for k in range(n)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    push(conn, project, later, settings=settings)  # a second push while annotators work
    frame, _ = pull(conn, schema, [project], settings)["event_type"]  # a pull mid-way
    row.mid_pull_rows = len(frame)
    for t in threads:
        t.join()
    row.seconds = time.perf_counter() - started
    row.submitted = len(done)
    frame, _ = pull(conn, schema, [project], settings)["event_type"]
    annotations = frame[frame["kind"] == "annotation"]
    pulled: dict[tuple[str, int], list[list[str]]] = {}
    for who, task_id, labels in zip(
        annotations["annotator"], annotations["task_id"], annotations["labels"], strict=True
    ):
        pulled.setdefault((str(who), int(task_id)), []).append(list(labels))
    row.lost = sum(1 for key, label in done.items() if [label] not in pulled.get(key, []))
    row.duplicated = sum(len(v) - 1 for v in pulled.values() if len(v) > 1)
    return row


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def _print_row(row: Row) -> None:
    rate = row.submitted / max(row.seconds, 1e-9)
    print(
        f"{row.store:8s} {row.annotators:3d} annotators: {row.submitted} annotations in {row.seconds:.1f} s "
        f"({rate:.1f}/s), p50 {1000 * _pct(row.latencies, 50):.0f} ms, "
        f"p95 {1000 * _pct(row.latencies, 95):.0f} ms, errors {row.errors}, "
        f"lost {row.lost}, duplicated {row.duplicated} (mid-way pull: {row.mid_pull_rows} rows)",
        flush=True,
    )


def _print_sweep(row: SweepRow) -> None:
    expected = 2 * row.trials_per_worker
    states = ", ".join(f"{k.lower()} {v}" for k, v in sorted(row.states.items())) or "none"
    print(
        f"{row.store:8s} sweep, 2 workers x {row.trials_per_worker} trials: {row.complete}/{expected} "
        f"complete in {row.seconds:.1f} s ({row.complete / max(row.seconds, 1e-9):.3f} trials/s; "
        f"trials alone {row.trial_seconds:.1f} s, {row.complete / max(row.trial_seconds, 1e-9):.3f}/s), "
        f"exit codes {row.exit_codes}{' (timed out)' if row.timed_out else ''}, errors {row.errors} "
        f"(database is locked: {row.locked}; trial states: {states})",
        flush=True,
    )
    ok_study = row.numbers_unique and row.complete == expected and sum(row.states.values()) == expected
    ok_runs = row.mlflow_trial_runs == sum(row.states.values()) and row.mlflow_trial_names_unique
    print(
        f"{row.store:8s} sweep check: trial numbers unique {row.numbers_unique}, "
        f"{expected} complete {row.complete == expected} -> {'ok' if ok_study else 'FAILED'}; "
        f"MLflow trial runs {row.mlflow_trial_runs} = trials {sum(row.states.values())} "
        f"-> {'ok' if ok_runs else 'FAILED'}; study {row.study!r}, optuna {row.storage}, "
        f"mlflow {row.tracking}",
        flush=True,
    )
    if row.note:
        print(f"{row.store:8s} sweep note: {row.note}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--annotators", type=int, nargs="+", default=[5, 20, 50])
    parser.add_argument("--per-annotator", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=200, help="tasks pushed first (as many again mid-way)")
    parser.add_argument(
        "--pace", type=float, default=1.0, help="mean seconds between one annotator's submits"
    )
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--url",
        default="",
        help="for the sqlite store: a running Label Studio (token in LABEL_STUDIO_API_KEY)",
    )
    parser.add_argument("--no-sweep", action="store_true", help="skip the sweep part")
    parser.add_argument("--sweep-only", action="store_true", help="skip the annotators")
    parser.add_argument("--sweep-trials", type=int, default=6, help="trials per sweep worker (two workers)")
    parser.add_argument(
        "--sweep-timeout", type=float, default=1200.0, help="seconds the two workers may take"
    )
    parser.add_argument(
        "--sweep-config",
        default="bench-load-sweep",
        help="an experiment config with a `sweep:` section (default: a small one on pilot/stance)",
    )
    parser.add_argument(
        "--sweep-data",
        type=Path,
        default=None,
        help="a data directory with the pilot dataset built (copied; default: built once here)",
    )
    args = parser.parse_args()
    if args.no_sweep and args.sweep_only:
        parser.error("--no-sweep and --sweep-only leave nothing to run")
    counts = [] if args.sweep_only else args.annotators
    rows: list[Row] = []
    sweeps: list[SweepRow] = []
    with tempfile.TemporaryDirectory() as tmp:
        spec = None
        if not args.no_sweep:
            started = time.perf_counter()
            pilot = build_pilot(args.sweep_data or Path(tmp) / "pilot")
            print(f"pilot dataset ready in {time.perf_counter() - started:.1f} s", flush=True)
            spec = SweepSpec(args.sweep_trials, pilot, args.sweep_config, args.sweep_timeout)
        for store in args.stores:
            got, swept = run_store(
                store,
                counts,
                args.per_annotator,
                args.tasks,
                args.pace,
                args.seed,
                args.url,
                sweep=spec,
                on_row=_print_row,
            )
            rows.extend(got)
            if swept is not None:
                sweeps.append(swept)
                _print_sweep(swept)
    if len(args.stores) == 2:
        for n in counts:
            a, b = (next(r for r in rows if r.store == s and r.annotators == n) for s in args.stores)
            ra, rb = (r.submitted / max(r.seconds, 1e-9) for r in (a, b))
            print(
                f"{n} annotators: postgres/sqlite throughput {rb / max(ra, 1e-9):.2f}, "
                f"p95 {_pct(b.latencies, 95) / max(_pct(a.latencies, 95), 1e-9):.2f}"
            )
        if len(sweeps) == 2:
            a, b = sweeps
            ra, rb = (r.complete / max(r.trial_seconds, 1e-9) for r in (a, b))
            print(
                f"sweep: {b.store}/{a.store} trials/s {rb / max(ra, 1e-9):.2f} (trials alone), "
                f"wall {b.seconds / max(a.seconds, 1e-9):.2f}; errors {a.errors} vs {b.errors}"
            )


if __name__ == "__main__":
    main()
