"""The pool of an active-learning round: corpus items of a task that no project of it holds yet.

Items are made as ``annotate push`` makes tasks (an article, or an article-target pair). An item
already pushed to any of the task's projects is not in the pool (it is queued already), and nor
is one whose article's near-duplicate cluster holds a labelled item: a copy of a labelled story
teaches the model nothing new. Each candidate carries its group (cluster, and target for pairs)
so a batch takes one per group.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from annotation.push import make_tasks, select_articles, task_key
from annotation.queue import Queued
from core.schema import Schema
from corpus.store import Store


@dataclass(frozen=True)
class Pool:
    """The candidates (Label Studio task data), their groups, and what was left out and why."""

    tasks: list[dict]
    groups: list[str]
    #: every item of the task in the corpus (the pool, plus those queued or left out)
    items: int
    queued: int
    near_duplicates: int
    labelled: int

    @property
    def keys(self) -> list[str]:
        return [task_key(t) for t in self.tasks]


def clusters_of(store: Store) -> dict[str, str]:
    """article id -> its near-duplicate cluster (the article's own id when it has none)."""
    table = store.clusters()
    return dict(zip(table["id"].to_pylist(), table["cluster"].to_pylist(), strict=True))


def _group(cluster: str, data: dict) -> str:
    return f"{cluster}|{data['target']}" if data.get("target") else cluster


def corpus_items(store: Store, schema: Schema, task: str) -> list[dict]:
    """Every item of ``task`` the corpus makes, as task data."""
    return make_tasks(schema, task, select_articles(store))


def build_pool(items: list[dict], clusters: dict[str, str], queued: Queued) -> Pool:
    """``items`` less those queued and the near-duplicates of labelled ones."""
    cluster = {t["article_id"]: clusters.get(t["article_id"]) or t["article_id"] for t in items}
    for article in queued.articles.values():
        cluster.setdefault(article, clusters.get(article) or article)
    labelled_groups = set()
    for key in queued.annotated:
        article = queued.articles[key]
        target = key.partition(":")[2]
        labelled_groups.add(_group(cluster[article], {"target": target}))
    tasks, groups, near = [], [], 0
    for data in items:
        if task_key(data) in queued.pushed:
            continue
        group = _group(cluster[data["article_id"]], data)
        if group in labelled_groups:
            near += 1
            continue
        tasks.append(data)
        groups.append(group)
    present = {task_key(t) for t in items}
    return Pool(
        tasks,
        groups,
        items=len(items),
        queued=len(queued.pushed & present),
        near_duplicates=near,
        labelled=len(queued.annotated),
    )


def stop_sample(items: list[dict], size: int) -> list[dict]:
    """A fixed sample of the task's items (the ``size`` with the smallest key hashes): the same
    from round to round while the corpus is, so successive models are compared on the same items."""
    ranked = sorted(items, key=lambda t: hashlib.sha256(task_key(t).encode()).hexdigest())
    return ranked[:size]
