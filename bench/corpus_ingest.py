"""Benchmark: ingest 100k- and 1M-article corpora made by perturbing the real articles.

Each synthetic article is a real one (seed, Wikinews, Global Voices) with words
replaced: a quarter lightly (1 % of words: near-duplicates that must cluster), the
rest heavily (20 %: distinct articles). Each size is ingested into an empty store
in a fresh process, which reports wall time, articles/s and peak RSS (its own and
its worker processes'). Prints the figures and the 1M / 100k ratios.

    .venv/bin/python bench/corpus_ingest.py                 # 100k and 1M
    .venv/bin/python bench/corpus_ingest.py --sizes 10000 100000
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

PER_FILE = 10_000


def base_articles() -> list[tuple[str, str]]:
    from core.assets import asset_dir, fetch, load_manifest
    from corpus.readers import read_path
    from corpus.records import RawArticle

    names = ["seed", "wikinews_en", "globalvoices_en"]
    fetch(names)
    manifest = load_manifest()
    out = []
    for name in names:
        for file in manifest.get(name).files:
            for item in read_path(asset_dir(name) / file.name):
                if isinstance(item, RawArticle):
                    out.append((item.title, item.text))
    return out


def perturb(title: str, text: str, i: int, vocabulary: list[str]) -> dict:
    rng = random.Random(i)
    words = text.split()
    share = 0.01 if rng.random() < 0.25 else 0.20
    for _ in range(max(1, int(len(words) * share))):
        words[rng.randrange(len(words))] = rng.choice(vocabulary)
    return {"title": f"{title} ({i})", "text": " ".join(words), "source": "bench", "date": "2024-01-01"}


def make_input(size: int, folder: Path) -> None:
    if (folder / "DONE").exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    bases = base_articles()
    vocabulary = sorted({w for _, text in bases[:200] for w in text.split()})
    for start in range(0, size, PER_FILE):
        with open(folder / f"part-{start // PER_FILE:05d}.jsonl", "w", encoding="utf-8") as fh:
            for i in range(start, min(size, start + PER_FILE)):
                title, text = bases[i % len(bases)]
                fh.write(json.dumps(perturb(title, text, i, vocabulary), ensure_ascii=False) + "\n")
    (folder / "DONE").write_text("")


def child(size: int, workdir: Path, workers: int) -> None:
    """Runs in a fresh process: ingest one input into an empty store, print figures as JSON."""
    from corpus.ingest import ingest

    store = workdir / f"store_{size}"
    shutil.rmtree(store, ignore_errors=True)
    started = time.perf_counter()
    report = ingest([workdir / f"input_{size}"], root=store, workers=workers)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "size": size,
                "added": report.added,
                "seconds": seconds,
                "per_second": report.added / seconds,
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "workers_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                "clusters": report.clusters,
                "in_clusters": report.articles_in_clusters,
                "rejects": len(report.rejects),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/newslab-bench-corpus"))
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.workdir, args.workers)
        return
    results = []
    for size in args.sizes:
        t = time.perf_counter()
        make_input(size, args.workdir / f"input_{size}")
        print(f"input of {size:,} articles ready ({time.perf_counter() - t:.0f} s)", flush=True)
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(size),
                "--workers",
                str(args.workers),
                "--workdir",
                str(args.workdir),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = results[-1]
        print(
            f"{r['size']:>10,} articles: {r['seconds']:8.1f} s, {r['per_second']:7.0f} articles/s, "
            f"peak RSS {r['rss_mb']:6.0f} MiB (workers {r['workers_rss_mb']:.0f} MiB), "
            f"{r['clusters']:,} clusters holding {r['in_clusters']:,} articles",
            flush=True,
        )
    if len(results) >= 2:
        small, big = results[0], results[-1]
        scale = big["size"] / small["size"]
        print(
            f"size x{scale:.0f}: time x{big['seconds'] / small['seconds']:.2f}, "
            f"peak RSS x{big['rss_mb'] / small['rss_mb']:.2f} "
            f"(workers x{big['workers_rss_mb'] / max(small['workers_rss_mb'], 1):.2f})"
        )


if __name__ == "__main__":
    main()
