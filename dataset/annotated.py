"""Our own annotations as ``LabeledItem``s: gold labels joined with the corpus articles.

Each schema task of the dataset config (``configs: {events: event_type, stance:
stance}``) is read from the pulled annotations table, turned into gold labels
(``annotation.gold``), and joined with its articles in the corpus store (text,
language, source, licence and attribution, published date, near-duplicate
cluster, which becomes the leakage group of the split). With ``gold: {method: crowdlab}`` the
articles are read first: CROWDLAB's model is fitted on their texts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from annotation.agreement import AgreementReport, agreement, submitted
from annotation.gold import GoldConfig, GoldItem, GoldResult, gold_labels
from annotation.tables import read_annotations
from core.errors import NewslabError, Unavailable
from core.hashing import text_hash
from core.schema import Schema
from core.settings import Settings
from corpus.ingest import ensure_articles
from corpus.store import Store
from dataset.records import LabeledItem

ARTICLE_COLUMNS = [
    "id", "title", "text", "lang", "source", "url", "published", "licence", "attribution", "author",
]  # fmt: skip


@dataclass
class AnnotatedPart:
    task: str
    items: list[LabeledItem]
    gold: GoldResult
    agreement: AgreementReport | None  #: None with fewer than two annotators
    #: ids of items whose article's corpus asset could not be had here (the seed without the mirror):
    #: they are split with the others, so every other item keeps its split, then left out
    unavailable: list[str] = field(default_factory=list)
    unavailable_assets: list[str] = field(default_factory=list)


def check_text_hashes(frame: pd.DataFrame, articles: Mapping[str, dict], task: str) -> None:
    """Annotations were made on a text: an article whose text changed since is an error naming it."""
    stale = sorted(
        {
            a
            for a, h in zip(frame["article_id"], frame["text_hash"], strict=True)
            if h and a in articles and text_hash(articles[a]["text"]) != h
        }
    )
    if stale:
        raise NewslabError(
            f"{task}: {len(stale)} article(s) changed since they were annotated (text hash differs): "
            f"{', '.join(stale[:5])}{' ...' if len(stale) > 5 else ''}.",
            "Re-annotate them, or rebuild the corpus from the same assets.",
        )


def corpus_articles(store: Store, ids: Iterable[str]) -> tuple[dict[str, dict], dict[str, str]]:
    """The articles with these ids (id -> row) and their near-duplicate clusters (id -> cluster)."""
    wanted = sorted(set(ids))
    articles = {row["id"]: row for row in store.table(ARTICLE_COLUMNS, ids=wanted).to_pylist()}
    clusters = store.clusters()
    clusters = clusters.filter(pc.is_in(clusters["id"], value_set=pa.array(wanted, pa.string())))
    return articles, dict(zip(clusters["id"].to_pylist(), clusters["cluster"].to_pylist(), strict=True))


def items_from_gold(
    gold: list[GoldItem],
    articles: Mapping[str, dict],
    clusters: Mapping[str, str],
    task: str,
    unavailable: Iterable[str] = (),
) -> list[LabeledItem]:
    """One item per gold unit; units whose article is not in the corpus are an error naming them,
    unless listed ``unavailable``: those get an item without text (split, then left out)."""
    articles = {**{a: {} for a in unavailable}, **articles}
    missing = sorted({g.article_id for g in gold if g.article_id not in articles})
    if missing:
        raise NewslabError(
            f"{task}: {len(missing)} annotated article(s) are not in the corpus store: "
            f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}.",
            "Ingest them (`newslab corpus ingest`) or point NEWSLAB_DATA_DIR at the store they came from.",
        )
    out = []
    for g in gold:
        article = articles[g.article_id]
        out.append(
            LabeledItem(
                id=f"{g.article_id}:{g.target}" if g.target else g.article_id,
                text=article.get("text", ""),
                labels=g.labels,
                split="",
                article_id=g.article_id,
                target=g.target,
                lang=article.get("lang") or "",
                source=article.get("source") or "",
                title=article.get("title") or "",
                url=article.get("url") or "",
                published=article.get("published") or "",
                licence=article.get("licence") or "",
                attribution=article.get("attribution") or "",
                author=article.get("author") or "",
                group=clusters.get(g.article_id, ""),
                n_annotators=g.n_annotators,
                agreement=g.agreement,
            )
        )
    return out


def _gold(
    frame: pd.DataFrame, schema: Schema, task: str, config: GoldConfig, store: Store
) -> tuple[GoldResult, dict[str, dict], dict[str, str]]:
    """The gold labels and the articles (and clusters) of the gold items. CROWDLAB's model reads the
    texts, so its articles are fetched first, every annotated one: an article not in the store reads
    as an empty text here and is named (or left out as unavailable) like for any other method."""
    if not config.needs_texts:
        gold = gold_labels(frame, schema, task, config)
        return gold, *corpus_articles(store, (g.article_id for g in gold.items))
    every = {str(a) for a in frame["article_id"]}
    articles, clusters = corpus_articles(store, every)
    texts = {a: (articles.get(a) or {}).get("text") or "" for a in every}
    gold = gold_labels(frame, schema, task, config, texts)
    kept = {g.article_id for g in gold.items}
    return (
        gold,
        {a: row for a, row in articles.items() if a in kept},
        {a: c for a, c in clusters.items() if a in kept},
    )


def annotated_parts(
    configs: Mapping[str, str],
    gold_config: GoldConfig,
    schema: Schema,
    annotations_dir: Path,
    store: Store,
    n_boot: int = 200,
    corpus_assets: Iterable[str] = (),
    settings: Settings | None = None,
) -> dict[str, AnnotatedPart]:
    """config name -> the gold items of its task, joined with the corpus, and the task's agreement.

    With ``corpus_assets`` (a fresh machine), annotated articles missing from the store are
    ingested from those assets first; their text hashes are checked either way. When some of
    those assets cannot be had here, the articles still missing are skipped, with one line saying
    so (``AnnotatedPart.unavailable``)."""
    from core.assets import fetch_available
    from core.console import err_console

    assets, lacking = list(corpus_assets), {}
    if assets:
        fetched = fetch_available(assets, settings)
        if fetched.failed:  # refused data (a checksum, a drifted derivation) is an error, not a gap
            raise NewslabError(next(iter(fetched.failed.values())))
        lacking = fetched.unavailable
        assets = [a for a in assets if a not in lacking]
    out: dict[str, AnnotatedPart] = {}
    skipped: set[str] = set()
    for name, task in configs.items():
        schema.task(task)  # an unknown task is an error naming it
        frame = read_annotations(annotations_dir / f"{task}.parquet", schema, task)
        if assets and ensure_articles(store, frame["article_id"], assets, settings):
            store = Store(store.root)  # the ingest wrote a new manifest
        gold, articles, clusters = _gold(frame, schema, task, gold_config, store)
        absent = sorted({g.article_id for g in gold.items if g.article_id not in articles}) if lacking else []
        if absent and len(absent) == len({g.article_id for g in gold.items}):
            raise Unavailable(
                f"{task}: none of the annotated articles can be had: corpus assets "
                f"{', '.join(sorted(lacking))} are unavailable.",
                next(iter(lacking.values())),
            )
        skipped.update(absent)
        if "text_hash" in frame:
            check_text_hashes(frame, articles, task)
        several = submitted(frame)["annotator"].nunique() >= 2
        accepted = gold_config.accepted_predictions
        report = (
            agreement(frame, schema, task, n_boot=n_boot, accepted_predictions=accepted) if several else None
        )
        items = items_from_gold(gold.items, articles, clusters, task, absent)
        left_out = [i.id for i in items if i.article_id in set(absent)]
        out[name] = AnnotatedPart(task, items, gold, report, left_out, sorted(lacking) if left_out else [])
    if skipped:
        err_console.print(
            f"[yellow]![/] skipped the annotations of {len(skipped)} article(s) whose corpus asset is "
            f"unavailable here ({', '.join(sorted(lacking))}): {', '.join(sorted(skipped)[:5])}"
            f"{' ...' if len(skipped) > 5 else ''}"
        )
    return out
