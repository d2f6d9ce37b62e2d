"""Ingest: read -> normalise -> drop exact duplicates -> language, sentences, MinHash -> store -> cluster.

Work is streamed in batches, so memory does not grow with the input; the heavy
per-article work (language, sentences, MinHash) can run in worker processes, which die
with the ingest. The whole run holds the store's lock: a second ingest refuses, naming
the first one's PID, instead of deleting its files in progress.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np

from core.errors import NewslabError
from core.settings import Settings, get_settings
from corpus import workers as worker_pool
from corpus.dedup import DedupParams, band_hashes, signatures
from corpus.language import detect_language
from corpus.limits import too_long
from corpus.normalize import article_id, content_key, normalize_text, normalize_title, word_count
from corpus.readers import ReaderOptions, read_path
from corpus.records import Article, RawArticle, Reject
from corpus.sentences import sentence_starts
from corpus.store import KeyIndex, Store

MIN_WORDS = 1


@dataclass
class IngestReport:
    added: int = 0
    duplicates: int = 0  #: exact duplicates (of the store or of this input), not stored again
    rejects: list[Reject] = field(default_factory=list)
    clusters: int = 0
    articles_in_clusters: int = 0
    total: int = 0  #: articles in the store after the run
    languages: dict[str, int] = field(default_factory=dict)


def corpus_dir() -> Path:
    return get_settings().corpus_dir


def _batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def analyse(
    texts: list[str], params: DedupParams
) -> tuple[list[tuple[str, float]], list[list[int]], np.ndarray, np.ndarray]:
    """The heavy part, for a batch: language, sentence starts, MinHash signatures, band hashes."""
    langs = [detect_language(t) for t in texts]
    starts: list[list[int]] = [[] for _ in texts]
    by_lang: dict[str, list[int]] = {}
    for i, (lang, _) in enumerate(langs):
        by_lang.setdefault(lang, []).append(i)
    for lang, indices in by_lang.items():
        for i, s in zip(indices, sentence_starts([texts[i] for i in indices], lang), strict=True):
            starts[i] = s
    sigs = signatures(texts, params)
    return langs, starts, sigs, band_hashes(sigs, params)


def _prepare(raw: RawArticle, max_chars: int) -> Article | Reject:
    text = normalize_text(raw.text)
    if len(text) > max_chars:  # normalising can lengthen a text, if rarely (NFC)
        return too_long(raw.source_file, raw.source_line, len(text), max_chars)
    words = word_count(text)
    if words < MIN_WORDS:
        return Reject(raw.source_file, raw.source_line, "empty article (no text after normalisation)")
    key = content_key(text)
    return Article(
        id=article_id(key),
        key=key,
        title=normalize_title(raw.title),
        text=text,
        lang="",
        lang_score=0.0,
        source=raw.source,
        url=raw.url,
        published=raw.published,
        licence=raw.licence,
        attribution=raw.attribution,
        author=raw.author,
        word_count=words,
        source_file=raw.source_file,
        source_line=raw.source_line,
    )


def check_inputs(paths: list[Path]) -> None:
    """Refuse, before any work, inputs that do not exist: a typo must not look like an empty folder."""
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise NewslabError(
            f"no such file or folder: {', '.join(missing)}.", "Nothing was ingested. Check the path(s)."
        )


def ingest(
    paths: list[Path],
    options: ReaderOptions | None = None,
    root: Path | None = None,
    strict: bool = False,
    batch_size: int = 1000,
    workers: int = 1,
    params: DedupParams | None = None,
    on_progress: Callable[[int], None] | None = None,
    per_path: dict[str, ReaderOptions] | None = None,
) -> IngestReport:
    """Ingest files or folders into the corpus store; re-ingesting the same articles adds nothing.

    ``per_path`` gives some paths reader options of their own (e.g. an asset's licence).
    """
    check_inputs(paths)
    store = Store(root or corpus_dir())
    store.root.mkdir(mode=0o755, parents=True, exist_ok=True)
    with store.lock():
        store.reload()  # what the last holder of the lock committed
        return _ingest(
            store,
            paths,
            options or ReaderOptions(),
            strict,
            batch_size,
            workers,
            params or DedupParams(),
            on_progress,
            per_path or {},
        )


def _ingest(
    store: Store,
    paths: list[Path],
    options: ReaderOptions,
    strict: bool,
    batch_size: int,
    workers: int,
    params: DedupParams,
    on_progress: Callable[[int], None] | None,
    per_path: dict[str, ReaderOptions],
) -> IngestReport:
    if store.manifest.get("dedup") and store.manifest["dedup"]["num_perm"] != params.num_perm:
        raise NewslabError(f"{store.root}: the store was built with other MinHash settings.")
    known = KeyIndex(store.keys())
    report = IngestReport()
    writer = store.run_writer(params)
    pool = worker_pool.start(workers) if workers > 1 else None
    pending: deque[tuple[list[Article], Future | tuple]] = deque()

    def drain(limit: int) -> None:
        while len(pending) > limit:
            articles, job = pending.popleft()
            langs, starts, sigs, bands = job.result() if isinstance(job, Future) else job
            for article, (lang, score), s in zip(articles, langs, starts, strict=True):
                article.lang, article.lang_score, article.sentence_starts = lang, score, s
            writer.write(articles, sigs, bands)
            report.added += len(articles)
            if on_progress:
                on_progress(len(articles))

    def items() -> Iterator[tuple[RawArticle | Reject, int]]:
        for path in paths:
            path_options = per_path.get(str(path), options)
            for item in read_path(Path(path), path_options):
                yield item, path_options.max_chars

    try:
        for batch in _batched(items(), batch_size):
            articles: list[Article] = []
            for item, max_chars in batch:
                prepared = _prepare(item, max_chars) if isinstance(item, RawArticle) else item
                if isinstance(prepared, Reject):
                    writer.reject(prepared)
                    report.rejects.append(prepared)
                    if on_progress:
                        on_progress(1)
                    continue
                if prepared.key in known:
                    report.duplicates += 1
                    if on_progress:
                        on_progress(1)
                    continue
                known.add(prepared.key)
                articles.append(prepared)
            if not articles:
                continue
            texts = [a.text for a in articles]
            job = pool.submit(analyse, texts, params) if pool else analyse(texts, params)
            pending.append((articles, job))
            drain(limit=2 * workers if pool else 0)
        drain(limit=0)
        if strict and report.rejects:
            first = report.rejects[0]
            raise NewslabError(
                f"{len(report.rejects)} input(s) rejected; first: {first.file}"
                f"{f': line {first.line}' if first.line else ''}: {first.reason}.",
                "Nothing was added (--strict). Fix the input or run without --strict.",
            )
    except BaseException:
        if pool:
            worker_pool.stop(pool, now=True)
            pool = None
        writer.abort()
        raise
    finally:
        if pool:
            worker_pool.stop(pool)
    manifest = writer.commit([str(p) for p in paths])
    stats = store.recluster(params) if report.added or store.clusters_stale() else {}
    if stats:
        report.clusters, report.articles_in_clusters = stats["clusters"], stats["articles_in_clusters"]
    else:
        clusters = store.clusters()
        report.clusters = len(set(clusters.column("cluster").to_pylist()))
        report.articles_in_clusters = clusters.num_rows
    report.total = int(manifest.get("count", 0))
    report.languages = dict(manifest.get("languages", {}))
    return report


def asset_inputs(
    names: list[str], settings: Settings | None = None
) -> tuple[list[Path], dict[str, ReaderOptions]]:
    """Fetch (checksum-verified) the named corpus assets: their files, and reader options giving each
    file its asset's licence."""
    from core.assets import asset_dir, fetch, load_manifest

    settings = settings or get_settings()
    fetch(list(names), settings)
    manifest = load_manifest(settings.assets_manifest)
    files: list[Path] = []
    per_path: dict[str, ReaderOptions] = {}
    for name in names:
        spec = manifest.get(name)
        for f in spec.files:
            path = asset_dir(name, settings) / f.name
            files.append(path)
            per_path[str(path)] = ReaderOptions(licence=spec.licence)
    return files, per_path


def ensure_articles(
    store: Store, ids: Iterable[str], assets: list[str], settings: Settings | None = None
) -> IngestReport | None:
    """Ingest the corpus assets into the store when some of these article ids are not in it yet
    (None when all are)."""
    wanted = sorted(set(ids))
    have = set(store.table(["id"], ids=wanted)["id"].to_pylist()) if len(store) else set()
    if not assets or have >= set(wanted):
        return None
    files, per_path = asset_inputs(assets, settings)
    return ingest(files, root=store.root, per_path=per_path)
