"""Replay the fault audit: bad input, kills, full disks, concurrent runs and secrets, against the
real `newslab` command, and print one row per case: what happened, the message a user sees,
whether any data was lost and whether a traceback was shown (both must be "no" everywhere).

    .venv/bin/python bench/faults.py                    # every case (starts Label Studio, PostgreSQL)
    .venv/bin/python bench/faults.py --no-servers       # leave out the cases that need a server
    .venv/bin/python bench/faults.py --only ingest      # the cases whose name contains "ingest"

Exits 1 when a case lost data or showed a traceback. The cases live in bench/_faults/, one
module per stage.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's packages

from _faults import annotation, cli, corpus, datasets, tracking  # noqa: F401  (register the cases)
from _faults.harness import CASES, Context, Row


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only", nargs="*", default=[], help="Run the cases whose name contains one of these."
    )
    parser.add_argument("--no-servers", action="store_true", help="Leave out the cases that start a server.")
    parser.add_argument("--workdir", type=Path, default=None, help="Keep the cases' data here.")
    args = parser.parse_args()

    from core.settings import get_settings

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="newslab-faults-"))
    ctx = Context(workdir=workdir, mirror=get_settings().mirror_dir, servers=not args.no_servers)
    selected = [
        (name, fn)
        for name, server, fn in CASES
        if (not args.only or any(part in name for part in args.only)) and (ctx.servers or not server)
    ]
    rows: list[Row] = []
    try:
        for name, fn in selected:
            start = time.monotonic()
            try:
                result = fn(ctx)
            except Exception as exc:  # a case that cannot run is a row, not the end of the audit
                traceback.print_exc()
                result = Row(name, f"bench failed: {type(exc).__name__}: {exc}", "", True, False)
            result.seconds = result.seconds or time.monotonic() - start
            rows.append(result)
            print(f"  {name}: {result.outcome}", file=sys.stderr, flush=True)
    finally:
        for close in ctx.cleanups[::-1]:
            close()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(render(rows))
    for note in ctx.notes:
        print(note)
    bad = [r.case for r in rows if r.lost or r.traceback]
    print(
        f"{len(rows)} cases; data lost: {sum(r.lost for r in rows)}; "
        f"traceback shown: {sum(r.traceback for r in rows)}"
    )
    return 1 if bad else 0


def render(rows: list[Row]) -> str:
    """A Markdown table (it reads in a terminal and pastes into an issue)."""
    lines = [
        "| case | outcome | message | data lost | traceback | s |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        message = r.message.replace("|", "/")[:160]
        lines.append(
            f"| {r.case} | {r.outcome} | {message} | {'YES' if r.lost else 'no'} | "
            f"{'YES' if r.traceback else 'no'} | {r.seconds:.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
