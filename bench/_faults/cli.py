"""The command line under attack: Ctrl-C while starting, a full disk, a read-only disk, file modes."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
from pathlib import Path

from _faults.harness import Context, Row, case, finish, row, wait_for


@case("Ctrl-C while the command starts")
def ctrl_c_start(ctx: Context) -> Row:
    data = ctx.data("ctrl_c_start")
    results = []
    for delay in (0.0, 0.05, 0.1, 0.2, 0.4, 0.8):
        started = time.monotonic()
        proc = ctx.start(data, "schema")
        # past the interpreter's own start-up (site and .pth files, where a Ctrl-C is Python's
        # "Fatal Python error" before any program code runs), into newslab's imports
        wait_for(
            lambda p=proc: _loaded(p.pid, "pydantic_core") or p.poll() is not None, timeout=60, every=0.001
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        results.append(finish(proc, started))
    worst = next((r for r in results if r.traceback), results[0])
    return row(
        "Ctrl-C during start-up",
        worst,
        f"exits {[r.rc for r in results]} for Ctrl-C 0-0.8 s into its imports",
        lost=False,
    )


def _loaded(pid: int, library: str) -> bool:
    try:
        return library in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def _mount(path: Path, options: str) -> bool:
    """A small tmpfs at ``path`` (root only); False where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    return done.returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


@case("disk full while fetching an asset")
def disk_full(ctx: Context) -> Row:
    data = ctx.workdir / "disk_full" / "data"
    if not _mount(data, "size=1m"):
        return Row("disk full", "n/a: cannot mount a small tmpfs here (needs root)", "", False, False)
    ctx.cleanups.append(lambda: _umount(data))
    result = ctx.cli(data, "assets", "fetch", "wikinews_en")  # 1.5 MB into 1 MB
    temps = [p for p in data.rglob("*") if p.name.endswith(".tmp")]
    return row(
        "disk full (1 MB tmpfs)",
        result,
        f"exit {result.rc}; temp files left: {len(temps)}",
        lost=bool(temps),
    )


@case("read-only data folder")
def read_only(ctx: Context) -> Row:
    data = ctx.workdir / "read_only" / "data"
    if not _mount(data, "size=1m,ro"):
        return Row(
            "read-only disk", "n/a: cannot mount a read-only tmpfs here (needs root)", "", False, False
        )
    ctx.cleanups.append(lambda: _umount(data))
    result = ctx.cli(data, "assets", "fetch", "seed")
    return row("read-only data folder", result, f"exit {result.rc}", lost=False)


@case("file modes after ingest and build")
def file_modes(ctx: Context) -> Row:
    from _faults.corpus import articles, write_jsonl

    data = ctx.data("modes")
    path = write_jsonl(data.parent / "in.jsonl", articles(ctx, 5))
    ctx.cli(data, "corpus", "ingest", str(path))
    result = ctx.cli(data, "dataset", "build", "cameo_pentacode")
    modes: dict[str, int] = {}
    for p in data.rglob("*"):
        if p.is_symlink():
            continue
        mode = stat.S_IMODE(p.stat().st_mode)
        kind = "dir" if p.is_dir() else "file"
        modes[f"{kind} {mode:04o}"] = modes.get(f"{kind} {mode:04o}", 0) + 1
    odd = {k: v for k, v in modes.items() if k not in ("dir 0755", "file 0644", "file 0444")}
    return row(
        "file modes",
        result,
        ", ".join(f"{k}: {v}" for k, v in sorted(modes.items())) + (f"; unexpected: {odd}" if odd else ""),
        lost=False,
    )
