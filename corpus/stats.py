"""Corpus statistics and a histogram of article lengths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.store import Store


@dataclass(frozen=True)
class CorpusStats:
    articles: int
    languages: dict[str, int]
    sources: dict[str, int]
    words: dict[str, float]  #: min, median, mean, p95, max
    clusters: int
    articles_in_clusters: int
    largest_cluster: int
    content_hash: str


def corpus_stats(store: Store) -> CorpusStats:
    words = store.column("word_count").astype(np.int64) if len(store) else np.zeros(1, np.int64)
    clusters = store.clusters()
    sizes = clusters.column("cluster_size").to_numpy() if clusters.num_rows else np.zeros(0)
    return CorpusStats(
        articles=len(store),
        languages=store.manifest.get("languages", {}),
        sources=store.manifest.get("sources", {}),
        words={
            "min": float(words.min()),
            "median": float(np.median(words)),
            "mean": float(words.mean()),
            "p95": float(np.percentile(words, 95)),
            "max": float(words.max()),
        },
        clusters=len(set(clusters.column("cluster").to_pylist())) if clusters.num_rows else 0,
        articles_in_clusters=clusters.num_rows,
        largest_cluster=int(sizes.max()) if len(sizes) else 0,
        content_hash=store.manifest.get("content_hash", ""),
    )


def length_histogram(store: Store, path: Path) -> Path:
    """A PNG histogram of words per article, one series per language (log-spaced bins)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    words = store.column("word_count").astype(np.int64)
    langs = store.column("lang")
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    bins = np.logspace(0, np.log10(max(int(words.max()), 10) + 1), 40) if len(words) else 10
    top = [lang for lang, _ in sorted(store.manifest.get("languages", {}).items(), key=lambda kv: -kv[1])[:5]]
    for lang in top:
        ax.hist(words[langs == lang], bins=bins, alpha=0.7, label=f"{lang} ({int((langs == lang).sum()):,})")
    rest = ~np.isin(langs, top)
    if rest.any():
        ax.hist(words[rest], bins=bins, alpha=0.7, label=f"other ({int(rest.sum()):,})")
    ax.set_xscale("log")
    ax.set_xlabel("words per article (log scale)")
    ax.set_ylabel("articles")
    ax.set_title(f"Article lengths: {len(words):,} articles")
    ax.legend(title="language")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
