"""Benchmark: `newslab predict` throughput per model family, its memory at 100k and 1M articles,
and the ML backend's latency per task.

1. The pilot dataset is built (which ingests its corpus assets, ~700 articles, into the store)
   and one model per family trained on it: event types for the text models, stance for the
   pair model. Each predicts the whole corpus store in-process; items/s and articles/s are
   printed (model loading excluded, as it is once per command).
2. The linear event-type model predicts synthetic tables of 100k and 1M articles (the real
   articles, each made distinct), each in a fresh process that reports its peak RSS: the
   1M / 100k ratio shows whether memory stays flat.
3. The backend (`newslab annotate backend`) serves the linear stance model; 200 single-task
   /predict requests give the median and p95 latency per task.

    .venv/bin/python bench/predict.py                      # everything, 100k and 1M
    .venv/bin/python bench/predict.py --sizes 1000 10000 --tasks 20 --families tfidf_lr
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

#: family -> (task, dataset, model params): small settings, trained on the pilot in seconds
FAMILIES = {
    "tfidf_lr": ("event_type", "pilot/events", {"classifier": "lr"}),
    "tfidf_svm": ("event_type", "pilot/events", {"classifier": "svm"}),
    "tfidf_pair_lr": ("stance", "pilot/stance", {"word_ngram_max": 2}),
    "gbdt": ("event_type", "pilot/events", {"svd_components": 50, "max_iter": 50}),
    "spacy_textcat": ("event_type", "pilot/events", {"epochs": 3}),
}
ROWS_PER_GROUP = 10_000


def experiment(workdir: Path, name: str) -> Path:
    """A config file training ``name``'s family on the pilot."""
    import yaml

    task, dataset, params = FAMILIES[name]
    family = "tfidf_lr" if name == "tfidf_svm" else name
    path = workdir / "configs" / f"bench-{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {"name": f"bench-{name}", "task": task, "dataset": dataset, "seed": 0}
    config["model"] = {"type": family, "params": params}
    path.write_text(yaml.safe_dump(config))
    return path


def trained(workdir: Path, names: list[str]) -> dict[str, str]:
    """family -> run id of a model trained on the pilot (built first)."""
    from dataset.build import build
    from training.train import train

    build("pilot")
    return {name: train(experiment(workdir, name)).run_id for name in names}


def throughput(runs: dict[str, str], workdir: Path) -> None:
    from corpus.store import Store
    from training.predict import predict_model

    print(f"corpus store: {len(Store(_settings().corpus_dir)):,} articles")
    for name, run_id in runs.items():
        report = predict_model(run_id, workdir / f"corpus-{name}.parquet")
        print(
            f"{name:>14}: {report.items:,} items from {report.articles:,} articles "
            f"in {report.seconds:.2f} s: {report.items_per_second:,.0f} items/s, "
            f"{report.articles / report.seconds:,.0f} articles/s"
        )


def _settings():  # type: ignore[no-untyped-def]
    from core.settings import get_settings

    return get_settings()


def synthetic_table(size: int, path: Path) -> Path:
    """``size`` articles, the store's real ones cycled and each made distinct, written a row group
    at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from corpus.store import Store

    if path.exists():
        return path
    texts = Store(_settings().corpus_dir).table(["text"]).column("text").to_pylist()
    tmp = path.with_suffix(".tmp")
    with pq.ParquetWriter(tmp, pa.schema([("id", pa.string()), ("text", pa.string())])) as writer:
        for start in range(0, size, ROWS_PER_GROUP):
            ids = [f"s{i}" for i in range(start, min(size, start + ROWS_PER_GROUP))]
            body = [f"{texts[i % len(texts)]} (ref {i})" for i in range(start, start + len(ids))]
            writer.write_table(pa.table({"id": ids, "text": body}))
    tmp.rename(path)
    return path


def child(run_id: str, table: Path, out: Path) -> None:
    """In a fresh process: predict one table, print items/s and peak RSS as JSON."""
    from training.predict import predict_model

    report = predict_model(run_id, out, table=table)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps({"items": report.items, "seconds": report.seconds, "peak_mb": own + worker, "own_mb": own})
    )


def memory(run_id: str, sizes: list[int], workdir: Path) -> None:
    figures = {}
    for size in sizes:
        table = synthetic_table(size, workdir / f"synthetic-{size}.parquet")
        out = workdir / f"synthetic-{size}-predicted.parquet"
        result = subprocess.run(
            [sys.executable, __file__, "--child", run_id, str(table), str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures[size] = json.loads(result.stdout.strip().splitlines()[-1])
        f = figures[size]
        print(
            f"{size:>9,} articles: {f['seconds']:.1f} s, {f['items'] / f['seconds']:,.0f} articles/s, "
            f"peak RSS {f['peak_mb']:,.0f} MB (main process {f['own_mb']:,.0f} MB + largest worker)"
        )
        out.unlink(missing_ok=True)
    if len(sizes) >= 2:
        small, large = figures[sizes[0]], figures[sizes[-1]]
        print(
            f"peak RSS ratio {sizes[-1]:,} / {sizes[0]:,} articles: "
            f"{large['peak_mb'] / small['peak_mb']:.2f} (articles x{sizes[-1] / sizes[0]:.0f})"
        )


def latency(run_id: str, tasks: int, workdir: Path) -> None:
    """Median and p95 of single-task /predict requests to a backend serving ``run_id``."""
    import socket

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(workdir / "backend.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "newslab.cli", "annotate", "backend", "--model", run_id, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=PROJECT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise SystemExit(f"the backend did not start; see {workdir / 'backend.log'}")
        from corpus.store import Store

        rows = Store(_settings().corpus_dir).table(["id", "text"]).slice(0, tasks).to_pylist()
        seconds = []
        with httpx.Client(timeout=30) as client:
            for i, row in enumerate(rows * (tasks // max(len(rows), 1) + 1)):
                if i == tasks:
                    break
                task = {
                    "id": i + 1,
                    "data": {"article_id": row["id"], "text": row["text"], "target": "russia"},
                }
                started = time.perf_counter()
                response = client.post(f"{url}/predict", json={"tasks": [task], "project": "1.0"})
                seconds.append(time.perf_counter() - started)
                response.raise_for_status()
        ms = sorted(s * 1000 for s in seconds)
        p95 = ms[min(len(ms) - 1, max(0, round(0.95 * len(ms)) - 1))]
        median = statistics.median(ms)
        print(f"backend /predict, {len(ms)} single-task requests: median {median:.1f} ms, p95 {p95:.1f} ms")
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--sizes", nargs="+", type=int, default=[100_000, 1_000_000])
    parser.add_argument(
        "--tasks", type=int, default=200, help="single-task requests to the backend (0: skip)"
    )
    parser.add_argument("--workdir", type=Path, default=PROJECT / "data" / "bench" / "predict")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("NEWSLAB_DATA_DIR", str(args.workdir / "data"))
    # the linear text model for memory, the pair model for the backend's latency, only when asked
    names = list(dict.fromkeys(["tfidf_lr", *(["tfidf_pair_lr"] if args.tasks else []), *args.families]))
    runs = trained(args.workdir, names)
    print(f"cores: {os.cpu_count()}")
    throughput({n: runs[n] for n in names if n in args.families or n == "tfidf_lr"}, args.workdir)
    memory(runs["tfidf_lr"], sorted(args.sizes), args.workdir)
    if args.tasks:
        latency(runs["tfidf_pair_lr"], args.tasks, args.workdir)


if __name__ == "__main__":
    main()
