"""Datasets under attack: two builds at once, a corrupted file in the current version."""

from __future__ import annotations

import time
from pathlib import Path

from _faults.harness import Context, Row, case, finish, row, wait_for

DATASET = "cameo_pentacode"


def versions(data: Path) -> list[str]:
    folder = data / "datasets" / ".versions" / DATASET
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []


@case("dataset build: two copies at once")
def two_builds(ctx: Context) -> Row:
    data = ctx.data("two_builds")
    ctx.cli(data, "assets", "fetch", "cameo_pentacode")
    from core.locks import is_locked

    lock = data / "datasets" / ".versions" / DATASET / ".lock"
    gate = data.parent / "go"
    started = time.monotonic()
    second = ctx.start(data, "dataset", "build", DATASET, NEWSLAB_BENCH_GATE=str(gate))
    first = ctx.start(data, "dataset", "build", DATASET)
    wait_for(lambda: is_locked(lock) or first.poll() is not None, timeout=120, every=0.01)
    gate.touch()  # the second build starts while the first holds the dataset
    results = [finish(p, started) for p in (first, second)]
    check = ctx.cli(data, "dataset", "verify", DATASET)
    refused = next((r for r in results if r.rc != 0), results[0])
    return row(
        "dataset build: two at once",
        refused,
        f"exits {[r.rc for r in results]}; versions {len(versions(data))}; verify exit {check.rc}",
        lost=check.rc != 0 or not versions(data),
    )


@case("dataset: a corrupted file in the current version")
def corrupted(ctx: Context) -> Row:
    data = ctx.data("corrupted")
    first = ctx.cli(data, "dataset", "build", DATASET)
    current = (data / "datasets" / DATASET).resolve()
    target = max(
        (p for p in current.rglob("*") if p.is_file() and p.suffix in (".arrow", ".parquet")),
        key=lambda p: p.stat().st_size,
    )
    target.chmod(0o644)
    raw = bytearray(target.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    target.write_bytes(bytes(raw))
    verify = ctx.cli(data, "dataset", "verify", DATASET)
    rebuild = ctx.cli(data, "dataset", "build", DATASET)
    after = ctx.cli(data, "dataset", "verify", DATASET)
    return row(
        "dataset: corrupted file in current version",
        verify,
        f"verify exit {verify.rc}; "
        f"rebuild says {'(unchanged)' if 'unchanged' in rebuild.text else 'rebuilt'}; "
        f"verify after {after.rc}",
        lost=first.rc != 0 or verify.rc == 0 or after.rc != 0,
    )


@case("dataset build: while another process holds the dataset")
def build_while_held(ctx: Context) -> Row:
    """The race above depends on timing (a small build can end before the second one reaches the
    lock); here a process of the bench holds the dataset's lock, as a long build would."""
    import multiprocessing

    data = ctx.data("held_build")
    first = ctx.cli(data, "dataset", "build", DATASET)
    lock = data / "datasets" / ".versions" / DATASET / ".lock"
    ready, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(str(lock), ready, release))
    holder.start()
    ready.wait(30)
    second = ctx.cli(data, "dataset", "build", DATASET)
    release.set()
    holder.join()
    named = f"PID {holder.pid}" in second.text
    check = ctx.cli(data, "dataset", "verify", DATASET)
    return row(
        "dataset build: lock held by another",
        second,
        f"exit {second.rc}; holder's PID named: {'yes' if named else 'NO'}; verify exit {check.rc}",
        lost=first.rc != 0 or check.rc != 0,
    )


def _hold(path: str, ready, release) -> None:  # type: ignore[no-untyped-def]
    from core.locks import lock

    with lock(Path(path), "a dataset build"):
        ready.set()
        release.wait(120)
