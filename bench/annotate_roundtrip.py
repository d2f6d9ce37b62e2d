"""Benchmark: push 10,000 tasks to a real Label Studio and pull them back, beside a raw SDK bulk import.

Starts a throw-away Label Studio in a temp dir, then, for the same 10,000 tasks:
  raw  - one `client.projects.import_tasks` call into an empty project (the SDK's bulk import)
  push - `annotation.push.push` into another empty project (listing, batching, retries included)
  pull - `annotation.pull.pull` of that project (export snapshot, checksum, normalised tables)
Prints the times and the push/raw ratio. With ``--url`` (or NEWSLAB_LS_URL) and an API
token in LABEL_STUDIO_API_KEY it uses that running server instead (the smoke test does).

    .venv/bin/python bench/annotate_roundtrip.py [--tasks 10000] [--batch-size 5000]
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument(
        "--url", default=os.environ.get("NEWSLAB_LS_URL", ""), help="a running Label Studio to use"
    )
    args = parser.parse_args()

    from annotation import server
    from annotation.client import connect
    from annotation.projects import find_projects, setup
    from annotation.pull import pull
    from annotation.push import ArticleRow, make_tasks, push
    from core.schema import load_schema
    from core.settings import Settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), ls_port=port, ls_url=args.url)
        if not args.url:
            t = time.perf_counter()
            server.serve(settings)
            print(f"Label Studio started in {time.perf_counter() - t:.1f} s", flush=True)
        try:
            schema = load_schema()
            conn = connect(settings)
            articles = [
                ArticleRow(f"a{i:06d}", f"Title {i}", f"Article {i}. " + "Officials met in Rome. " * 20, "en")
                for i in range(args.tasks)
            ]
            tasks = make_tasks(schema, "event_type", articles)
            client = conn.client()
            raw_project = client.projects.create(
                title="raw-import",
                label_config=client.projects.get(
                    id=setup(conn, schema, settings=settings)[1].project.id
                ).label_config,
            )
            project = next(p for p in find_projects(conn, schema, settings) if p.task == "event_type")

            t = time.perf_counter()
            client.projects.import_tasks(
                id=raw_project.id, request=[{"data": d} for d in tasks], return_task_ids=True
            )
            raw = time.perf_counter() - t
            t = time.perf_counter()
            report = push(conn, project, tasks, batch_size=args.batch_size)
            pushed = time.perf_counter() - t
            assert report.added == args.tasks, report
            t = time.perf_counter()
            frame, _ = pull(conn, schema, [project], settings)["event_type"]
            pulled = time.perf_counter() - t
            t = time.perf_counter()
            again = push(conn, project, tasks, batch_size=args.batch_size)
            repeat = time.perf_counter() - t
            assert again.added == 0
        finally:
            if not args.url:
                server.stop(settings)
    print(f"{args.tasks:,} tasks")
    print(f"  raw SDK bulk import : {raw:6.2f} s")
    print(f"  newslab push        : {pushed:6.2f} s  (x{pushed / raw:.2f} of raw)")
    print(f"  newslab push again  : {repeat:6.2f} s  (adds 0)")
    print(f"  newslab pull        : {pulled:6.2f} s  ({len(frame)} annotation rows)")


if __name__ == "__main__":
    main()
