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
    started = time.monotonic()
    first = ctx.start(data, "dataset", "build", DATASET)
    wait_for(lambda: is_locked(lock) or first.poll() is not None, timeout=120, every=0.02)
    second = ctx.start(data, "dataset", "build", DATASET)  # while the first holds the dataset
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
