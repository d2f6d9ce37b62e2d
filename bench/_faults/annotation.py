"""Annotation under attack: two pushes at once, unknown labels, edited snapshots, bad submissions."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from _faults.harness import Context, Row, case, finish, row, wait_for


def _row(article: str, annotator: str, labels: object) -> dict:
    return {
        "project": "p", "task": "stance", "article_id": article, "text_hash": "", "target": "russia",
        "annotator": annotator, "labels": labels, "cancelled": False, "ground_truth": False,
        "lead_time": None, "created_at": "", "updated_at": "",
    }  # fmt: skip


@case("annotate: an unknown label in a pulled table")
def unknown_label(ctx: Context) -> Row:
    data = ctx.data("unknown_label")
    table = data / "annotations" / "stance.jsonl"
    table.parent.mkdir(parents=True)
    rows = [_row("a1", "ann1", ["favor"]), _row("a1", "ann2", ["FAVOUR"]), _row("a2", "ann1", ["against"])]
    table.write_text("".join(json.dumps(r) + "\n" for r in rows))
    before = table.read_bytes()
    result = ctx.cli(data, "annotate", "agreement", "stance")
    return row(
        "annotate: unknown label in a table",
        result,
        f"agreement exit {result.rc}",
        lost=table.read_bytes() != before or result.rc == 0,
    )


@case("annotate: a snapshot edited after the pull")
def edited_snapshot(ctx: Context) -> Row:
    data = ctx.data("edited_snapshot")
    folder = data / "annotations" / "snapshots"
    folder.mkdir(parents=True)
    raw = json.dumps([]).encode()
    path = folder / "newslab__stance-20260101T000000Z.json"
    path.write_bytes(raw)
    Path(f"{path}.sha256").write_text(f"{hashlib.sha256(raw).hexdigest()}  {path.name}\n")
    path.write_bytes(b"[ ]")  # a hand edit
    result = ctx.cli(data, "annotate", "verify")
    return row("annotate: edited snapshot", result, f"verify exit {result.rc}", lost=result.rc == 0)


@case('annotate submit: "labels": "AGREE" and Latin-1 bytes')
def bad_submissions(ctx: Context) -> Row:
    data = ctx.data("bad_submit")
    as_string = data.parent / "labels.jsonl"
    as_string.write_text(
        json.dumps({"article_id": "a1", "labels": ["favor"], "target": "russia"})
        + "\n"
        + json.dumps({"article_id": "a2", "labels": "against", "target": "russia"})
        + "\n"
    )
    latin1 = data.parent / "latin1.jsonl"
    latin1.write_bytes('{"article_id": "a1", "labels": ["favor"], "note": "caffè"}\n'.encode("latin-1"))
    results = [ctx.cli(data, "annotate", "submit", "stance", str(p)) for p in (as_string, latin1)]
    return row(
        "annotate submit: labels as a string, Latin-1",
        results[0],
        f"exits {[r.rc for r in results]}; second says: {results[1].message[:80]}",
        lost=any(r.rc == 0 for r in results),
    )


@case("annotate push: two copies at once", server=True)
def two_pushes(ctx: Context) -> Row:
    from _faults.corpus import articles, write_jsonl
    from tests.conftest import free_port

    data = ctx.data("two_pushes")
    port = str(free_port())
    env = {"NEWSLAB_LS_PORT": port}
    served = ctx.cli(data, "annotate", "serve", timeout=300, **env)
    if served.rc != 0:
        raise RuntimeError(f"Label Studio did not start: {served.message}")
    ctx.cleanups.append(lambda: ctx.cli(data, "annotate", "stop", **env))
    ctx.cli(data, "corpus", "ingest", str(write_jsonl(data.parent / "in.jsonl", articles(ctx, 200))))
    setup = ctx.cli(data, "annotate", "setup", **env)
    if setup.rc != 0:
        raise RuntimeError(f"annotate setup failed: {setup.message}")
    from core.locks import is_locked

    def pushing() -> bool:
        return any(is_locked(p) for p in (data / "annotations" / "locks").glob(".push-*.lock"))

    gate = data.parent / "go"
    started = time.monotonic()
    second = ctx.start(data, "annotate", "push", "event_type", **env, NEWSLAB_BENCH_GATE=str(gate))
    first = ctx.start(data, "annotate", "push", "event_type", **env)
    wait_for(lambda: pushing() or first.poll() is not None, timeout=120, every=0.01)
    gate.touch()  # the second push starts while the first holds the project
    results = [finish(p, started) for p in (first, second)]
    again = ctx.cli(data, "annotate", "push", "event_type", **env)

    from annotation.client import connect
    from annotation.projects import find_projects
    from annotation.push import list_tasks
    from core.schema import load_schema
    from core.settings import Settings

    settings = Settings(data_dir=data, ls_port=int(port))
    conn = connect(settings)
    projects = [
        p for p in find_projects(conn, load_schema(), settings) if p.task == "event_type" and not p.annotator
    ]
    counts = [len(list_tasks(conn, p.id)) for p in projects]
    refused = next((r for r in results if r.rc != 0), results[0])
    return row(
        "annotate push: two at once",
        refused,
        f"exits {[r.rc for r in results]}; tasks per project {counts} for 200 articles; "
        f"re-run exit {again.rc}",
        lost=any(c != 200 for c in counts),
    )
