"""Benchmark: build a 1M-row dataset from annotations, through the code `newslab dataset build` runs.

A synthetic annotation table (two annotators per article, event types from the
schema, a tenth of the articles in near-duplicate clusters, dated articles) goes
through gold labels (majority vote), agreement (with a few bootstrap resamples),
the join with the articles, the leakage-free stratified split, the fingerprint
and the atomic write (``save_to_disk``, Parquet, dataset card). Each size runs
in a fresh process, which reports the time of every step and its peak RSS.

    .venv/bin/python bench/dataset_build.py                   # 100k and 1M rows
    .venv/bin/python bench/dataset_build.py --sizes 10000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

SENTENCE = (
    "the minister said troops moved near the border while talks on a ceasefire continued in the capital "
    "protesters gathered outside parliament and police arrested several people after clashes"
)


def synthetic(size: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """(annotations frame, articles by id, clusters by id) for ``size`` articles."""
    import numpy as np
    import pandas as pd

    from core.schema import load_schema

    codes = load_schema().task("event_type").codes
    rng = np.random.default_rng(seed)
    words = np.array(SENTENCE.split())
    ids = [f"{k:016x}" for k in range(size)]
    # labels: one or two event types per article, skewed like real news (a few types dominate)
    weights = 1 / np.arange(1, len(codes) + 1)
    first = rng.choice(len(codes), size=size, p=weights / weights.sum())
    second = np.where(rng.random(size) < 0.3, rng.integers(0, len(codes), size), -1)
    gold = [
        sorted({codes[a]} | ({codes[b]} if b >= 0 else set())) for a, b in zip(first, second, strict=True)
    ]
    noisy = rng.random(size) < 0.15  # the second annotator differs on 15 %
    other = rng.integers(0, len(codes), size)
    second_labels = [[codes[o]] if n else g for g, n, o in zip(gold, noisy, other, strict=True)]
    frame = pd.DataFrame(
        {
            "project": "newslab/event_type",
            "kind": "annotation",
            "article_id": ids * 2,
            "target": "",
            "annotator": ["ann@example.org"] * size + ["bob@example.org"] * size,
            "labels": gold + second_labels,
            "cancelled": False,
            "ground_truth": False,
            "updated_at": "2026-01-01T00:00:00",
        }
    )
    lengths = rng.integers(25, 60, size)
    articles = {}
    for k, article_id in enumerate(ids):
        start = k % 20
        text = " ".join(words[(start + np.arange(lengths[k])) % len(words)]) + f" ({k})"
        articles[article_id] = {
            "id": article_id,
            "title": f"Article {k}",
            "text": text,
            "lang": "en",
            "source": "bench",
            "url": f"https://example.org/{k}",
            "published": f"2024-{1 + k % 12:02d}-{1 + k % 28:02d}",
            "licence": "CC BY 4.0",
            "attribution": "bench",
            "author": f"Reporter {k % 50}",
        }
    clusters = {}
    for k in range(0, size // 10, 3):  # clusters of three near-duplicates
        for j in range(3):
            clusters[ids[k + j]] = f"cluster-{ids[k]}"
    return frame, articles, clusters


def child(size: int, workdir: Path, n_boot: int) -> None:
    """Runs in a fresh process: one build, figures as JSON."""
    from annotation.agreement import agreement
    from annotation.gold import GoldConfig, gold_labels
    from core.schema import load_schema
    from dataset.annotated import AnnotatedPart, items_from_gold
    from dataset.build import Part, publish
    from dataset.config import DatasetConfig
    from dataset.splits import SplitConfig

    schema = load_schema()
    times: dict[str, float] = {}
    t = time.perf_counter()
    frame, articles, clusters = synthetic(size)
    times["make input"] = time.perf_counter() - t

    started = time.perf_counter()
    t = time.perf_counter()
    config = DatasetConfig(
        name="bench",
        configs={"events": "event_type"},
        gold=GoldConfig(method="majority"),
        splits=SplitConfig(),
    )
    gold = gold_labels(frame, schema, "event_type", config.gold)
    times["gold labels"] = time.perf_counter() - t
    t = time.perf_counter()
    report = agreement(frame, schema, "event_type", n_boot=n_boot)
    times["agreement"] = time.perf_counter() - t
    t = time.perf_counter()
    items = items_from_gold(gold.items, articles, clusters, "event_type")
    del frame, articles
    times["join articles"] = time.perf_counter() - t
    t = time.perf_counter()
    dest = workdir / f"datasets_{size}" / "bench"
    shutil.rmtree(dest.parent, ignore_errors=True)
    part = Part("events", "event_type", schema.task("event_type"), items)
    built = publish(
        config, [part], schema, dest, gold_parts={"events": AnnotatedPart("event_type", items, gold, report)}
    )
    times["split + fingerprint + write"] = time.perf_counter() - t
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "size": size,
                "rows": sum(built.counts.values()),
                "counts": built.counts,
                "seconds": seconds,
                "steps": times,
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "disk_mb": sum(p.stat().st_size for p in dest.resolve().rglob("*") if p.is_file()) / 2**20,
                "alpha_masi": next(r.value for r in report.rows if r.metric == "alpha_masi"),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--bootstrap", type=int, default=20, help="bootstrap resamples of the agreement")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/newslab-bench-dataset"))
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.workdir, args.bootstrap)
        return
    random.seed(0)
    results = []
    for size in args.sizes:
        cmd = [sys.executable, __file__, "--child", str(size), "--bootstrap", str(args.bootstrap)]
        out = subprocess.run([*cmd, "--workdir", str(args.workdir)], capture_output=True, text=True)
        if out.returncode:
            sys.exit(out.stderr)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(r)
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in r["steps"].items())
        print(
            f"{r['rows']:>10,} rows: {r['seconds']:7.1f} s ({r['rows'] / r['seconds']:,.0f} rows/s), "
            f"peak RSS {r['rss_mb']:,.0f} MiB, on disk {r['disk_mb']:,.0f} MiB; splits {r['counts']}\n"
            f"            {steps}; alpha (MASI) {r['alpha_masi']:.3f}",
            flush=True,
        )
    if len(results) >= 2:
        small, big = results[0], results[-1]
        print(
            f"rows x{big['rows'] / small['rows']:.0f}: time x{big['seconds'] / small['seconds']:.2f}, "
            f"peak RSS x{big['rss_mb'] / small['rss_mb']:.2f}"
        )


if __name__ == "__main__":
    main()
