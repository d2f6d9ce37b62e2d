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

    .venv/bin/python bench/load.py                                  # 5, 20, 50 annotators
    .venv/bin/python bench/load.py --annotators 2 --per-annotator 3 --stores sqlite
"""

from __future__ import annotations

import argparse
import random
import statistics
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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(store: str, settings):  # type: ignore[no-untyped-def]
    """Start the store's Label Studio; the settings pointing at it, and how to stop it."""
    import os

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


def run_store(
    store: str, counts: list[int], per: int, tasks: int, pace: float, seed: int, url: str = ""
) -> list[Row]:
    """Start the store once and run a row per number of annotators, each in a project of its own."""
    import uuid

    from core.settings import Settings

    prefix = f"load-{uuid.uuid4().hex[:6]}-"
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp).chmod(0o755)  # PostgreSQL runs as its own user, who must reach its cluster folder
        base = Settings(
            data_dir=Path(tmp) / "data", ls_port=_free_port(), ls_url=url if store == "sqlite" else ""
        )
        settings, stop = _start(store, base)
        try:
            return [
                run_row(
                    store,
                    settings.model_copy(update={"ls_project_prefix": f"{prefix}{n}"}),
                    n,
                    per,
                    tasks,
                    pace,
                    seed,
                )
                for n in counts
            ]
        finally:
            stop()


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
    args = parser.parse_args()
    rows = []
    for store in args.stores:
        for row in run_store(
            store, args.annotators, args.per_annotator, args.tasks, args.pace, args.seed, args.url
        ):
            rows.append(row)
            n = row.annotators
            rate = row.submitted / max(row.seconds, 1e-9)
            print(
                f"{store:8s} {n:3d} annotators: {row.submitted} annotations in {row.seconds:.1f} s "
                f"({rate:.1f}/s), p50 {1000 * _pct(row.latencies, 50):.0f} ms, "
                f"p95 {1000 * _pct(row.latencies, 95):.0f} ms, errors {row.errors}, "
                f"lost {row.lost}, duplicated {row.duplicated} (mid-way pull: {row.mid_pull_rows} rows)",
                flush=True,
            )
    if len(args.stores) == 2:
        for n in args.annotators:
            a, b = (next(r for r in rows if r.store == s and r.annotators == n) for s in args.stores)
            ra, rb = (r.submitted / max(r.seconds, 1e-9) for r in (a, b))
            print(
                f"{n} annotators: postgres/sqlite throughput {rb / max(ra, 1e-9):.2f}, "
                f"p95 {_pct(b.latencies, 95) / max(_pct(a.latencies, 95), 1e-9):.2f}"
            )


if __name__ == "__main__":
    main()
