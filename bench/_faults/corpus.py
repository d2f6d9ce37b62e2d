"""Ingest under attack: oversized records, broken CSV, concurrent copies, kills, odd folders."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from _faults.harness import Context, Row, alive, case, children, finish, row, wait_for


def articles(ctx: Context, n: int, source: str = "wikinews_en") -> list[dict]:
    with open(ctx.mirror / "corpus" / source / "articles.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for _, line in zip(range(n), fh, strict=False)]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def stored(data: Path) -> int:
    manifest = data / "corpus" / "manifest.json"
    return json.loads(manifest.read_text())["count"] if manifest.exists() else 0


def first_reject(data: Path) -> str:
    """The first reason the ingest's rejects file gives (what a user reads there)."""
    for path in sorted((data / "corpus" / "rejects").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            return f"reject: line {item.get('line', '?')}: {item.get('reason', '')}"
    return ""


def with_reject(result_row: Row, data: Path) -> Row:
    result_row.message = first_reject(data) or result_row.message
    return result_row


def added(text: str) -> tuple[int, int]:
    match = re.search(r"added (\d+).*rejected (\d+)", text)
    return (int(match[1]), int(match[2])) if match else (-1, -1)


@case("ingest: one record over 1M characters among 20")
def oversized_record(ctx: Context) -> Row:
    data = ctx.data("oversized")
    records = articles(ctx, 20)
    records.insert(7, {"title": "huge", "text": "parola " * 200_000})  # 1.4M characters
    result = ctx.cli(data, "corpus", "ingest", str(write_jsonl(data.parent / "in.jsonl", records)))
    n_added, n_rejected = added(result.out)
    return with_reject(
        row(
            "ingest: record over 1M chars",
            result,
            f"exit {result.rc}; added {n_added}, rejected {n_rejected}",
            lost=stored(data) != 20,
        ),
        data,
    )


@case("ingest: a 200 MB .txt beside 3 articles")
def huge_txt(ctx: Context) -> Row:
    data = ctx.data("huge_txt")
    folder = data.parent / "in"
    write_jsonl(folder / "ok.jsonl", articles(ctx, 3))
    with open(folder / "huge.txt", "w", encoding="utf-8") as fh:
        fh.write("A title\n")
        chunk = "word " * 200_000
        for _ in range(200):  # 200 MB
            fh.write(chunk)
    result = ctx.cli(data, "corpus", "ingest", str(folder))
    (folder / "huge.txt").unlink()
    n_added, n_rejected = added(result.out)
    return with_reject(
        row(
            "ingest: 200 MB .txt",
            result,
            f"exit {result.rc}; added {n_added}, rejected {n_rejected}; "
            f"{result.seconds:.1f} s, peak RSS {result.peak_mb:.0f} MB",
            lost=stored(data) != 3,
        ),
        data,
    )


@case("ingest: CSV with an unclosed quote")
def unclosed_quote(ctx: Context) -> Row:
    data = ctx.data("csv_quote")
    path = data.parent / "in.csv"
    path.write_text(
        "title,text\n"
        'First,"The first article, whole."\n'
        'Second,"An opening quote that never closes.\n'
        'Third,"The third article."\n'
        'Fourth,"The fourth article."\n',
        encoding="utf-8",
    )
    result = ctx.cli(data, "corpus", "ingest", str(path))
    merged = False
    if stored(data):
        from corpus.store import Store

        texts = Store(data / "corpus").table(["text"])["text"].to_pylist()
        merged = any("third article" in t and "never closes" in t for t in texts)
    n_added, n_rejected = added(result.out)
    return with_reject(
        row(
            "ingest: CSV unclosed quote",
            result,
            f"exit {result.rc}; added {n_added}, rejected {n_rejected}; "
            f"rows merged into one: {'YES' if merged else 'no'}",
            lost=merged or stored(data) < 1,
        ),
        data,
    )


@case("ingest: two copies at once")
def two_ingests(ctx: Context) -> Row:
    data = ctx.data("two_ingests")
    path = write_jsonl(data.parent / "in.jsonl", articles(ctx, 200, "globalvoices_en"))
    started = time.monotonic()
    procs = [ctx.start(data, "corpus", "ingest", str(path)) for _ in range(2)]
    results = [finish(p, started) for p in procs]
    again = ctx.cli(data, "corpus", "ingest", str(path))
    refused = [r for r in results if r.rc != 0]
    shown = refused[0] if refused else results[-1]
    return row(
        "ingest: two copies at once",
        shown,
        f"exits {[r.rc for r in results]}; store {stored(data)} articles; "
        f"re-run: {added(again.out)[0]} added",
        lost=stored(data) != 200 or again.rc != 0 or any(r.traceback for r in results),
    )


@case("ingest: killed between manifest commit and re-clustering")
def kill_before_recluster(ctx: Context) -> Row:
    data = ctx.data("recluster")
    base = articles(ctx, 30)
    near = [{**a, "title": a["title"] + " (copy)", "text": a["text"] + " Updated."} for a in base[:10]]
    first = write_jsonl(data.parent / "a.jsonl", base)
    second = write_jsonl(data.parent / "b.jsonl", near)
    ctx.cli(data, "corpus", "ingest", str(first))
    # the second ingest dies the moment re-clustering starts (its manifest is already committed)
    killer = (
        "import os, corpus.store as s\n"
        "s.Store.recluster = lambda self, *a, **k: os._exit(9)\n"
        "from newslab.launch import main\nmain()\n"
    )
    env = ctx.env(data)
    subprocess.run(
        [sys.executable, "-c", killer, "corpus", "ingest", str(second)], env=env, capture_output=True
    )
    again = ctx.cli(data, "corpus", "ingest", str(second))
    from corpus.store import Store

    clusters = Store(data / "corpus").clusters()
    together = clusters.num_rows
    return row(
        "ingest: kill before re-clustering",
        again,
        f"after the kill and a re-run: {together} articles in near-duplicate clusters (20 expected)",
        lost=together < 20,
    )


@case("ingest --workers 2: parent SIGKILLed")
def killed_workers(ctx: Context) -> Row:
    data = ctx.data("killed_workers")
    path = write_jsonl(data.parent / "in.jsonl", articles(ctx, 400, "globalvoices_en"))
    proc = ctx.start(data, "corpus", "ingest", str(path), "--workers", "2")
    # the wrapper runs the CLI in the same process, so the workers are its children
    wait_for(lambda: len(children(proc.pid)) >= 2 or proc.poll() is not None, timeout=120)
    workers = children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    gone = wait_for(lambda: not any(alive(w) for w in workers), timeout=10)
    again = ctx.cli(data, "corpus", "ingest", str(path))
    return row(
        "ingest --workers 2: parent killed",
        again,
        f"{len(workers)} workers, {'all gone' if gone else 'STILL ALIVE'} after the kill; "
        f"re-run added {added(again.out)[0]}",
        lost=not gone or stored(data) != 400,
    )


@case("ingest: Ctrl-C")
def ctrl_c(ctx: Context) -> Row:
    data = ctx.data("ctrl_c")
    path = write_jsonl(data.parent / "in.jsonl", articles(ctx, 400, "globalvoices_en"))
    started = time.monotonic()
    proc = ctx.start(data, "corpus", "ingest", str(path), "--workers", "2")
    wait_for(lambda: len(children(proc.pid)) >= 2 or proc.poll() is not None, timeout=120)
    workers = children(proc.pid)
    proc.send_signal(signal.SIGINT)
    result = finish(proc, started)
    gone = wait_for(lambda: not any(alive(w) for w in workers), timeout=10)
    return row(
        "ingest: Ctrl-C",
        result,
        f"exit {result.rc}; workers {'stopped' if gone else 'STILL ALIVE'}; store {stored(data)} articles",
        lost=not gone or stored(data) != 0 or bool(list((data / "corpus").rglob("*.tmp"))),
    )


@case("ingest: unreadable folder and a symlink loop")
def odd_folders(ctx: Context) -> Row:
    data = ctx.data("odd_folders")
    folder = data.parent / "in"
    write_jsonl(folder / "ok.jsonl", articles(ctx, 3))
    (folder / "sub").mkdir()
    write_jsonl(folder / "sub" / "hidden.jsonl", articles(ctx, 5)[3:])
    os.chmod(folder / "sub", 0)
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    result = ctx.cli(data, "corpus", "ingest", str(folder))
    os.chmod(folder / "sub", 0o755)
    said_loop = "loop" in result.text
    said_unreadable = "ermission" in result.text or os.geteuid() == 0  # root reads it anyway
    return with_reject(
        row(
            "ingest: unreadable folder, symlink loop",
            result,
            f"exit {result.rc}; loop reported: {'yes' if said_loop else 'NO'}; unreadable folder "
            + (
                "read (running as root)"
                if os.geteuid() == 0
                else f"reported: {'yes' if said_unreadable else 'NO'}"
            ),
            lost=not (said_loop and said_unreadable) or stored(data) < 3,
        ),
        data,
    )


@case("ingest: a path that does not exist")
def missing_path(ctx: Context) -> Row:
    data = ctx.data("missing_path")
    result = ctx.cli(data, "corpus", "ingest", str(data.parent / "no-such-file.jsonl"))
    return row("ingest: missing path", result, f"exit {result.rc}", lost=False)


@case("ingest: --format xml")
def bad_format(ctx: Context) -> Row:
    data = ctx.data("bad_format")
    path = write_jsonl(data.parent / "in.jsonl", articles(ctx, 2))
    result = ctx.cli(data, "corpus", "ingest", str(path), "--format", "xml")
    return row("ingest: --format xml", result, f"exit {result.rc}", lost=False)
