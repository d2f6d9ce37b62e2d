"""The review queue: items sent back to Label Studio for an adjudicator.

Items whose annotators agree less than ``gold.review_below`` (``newslab annotate review``), and gold
labels the label-noise audit doubts (``newslab annotate audit``), go to the task's review project
(``newslab/<task>/review``). Its layout (``label_config(review=True)``) shows every annotator's
labels, the model's suggestion where there is one, the agreement and why the item is there, as
read-only text beside an empty form: nothing is pre-ticked, so submitting unchanged cannot make one
annotator's answer gold. What the adjudicator submits there is pulled like any annotation and,
with ``gold.method: ground_truth``, becomes the item's gold label. Sending again adds only the
items not yet in the queue.
"""

from __future__ import annotations

from collections.abc import Mapping

from annotation.client import Connection
from annotation.gold import GoldItem
from annotation.projects import review_project
from annotation.push import PushReport, push, select_articles
from core.hashing import text_hash
from core.schema import Schema
from core.settings import Settings
from corpus.store import Store

#: why an item is in the queue when the caller does not say
DISAGREEMENT = "the annotators disagree"
NO_SUGGESTION = "(no model suggestion)"


def votes_text(schema: Schema, task: str, votes: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """Each annotator's labels by name, one line per annotator."""
    names = {label.code: label.name for label in schema.task(task).labels}
    lines = [f"{who}: {', '.join(names.get(c, c) for c in labels) or '(no label)'}" for who, labels in votes]
    return "\n".join(lines) or "(no annotation)"


def review_tasks(
    schema: Schema,
    task: str,
    items: list[GoldItem],
    store: Store,
    suggestions: Mapping[str, str] | None = None,
    reasons: Mapping[str, str] | None = None,
) -> list[dict]:
    """Task data for the review project: the article, and the votes, suggestion (per unit, from
    ``suggestions``), agreement and reason as text fields the review layout shows."""
    articles = {a.id: a for a in select_articles(store, [item.article_id for item in items])}
    names = {t.code: t.name for t in schema.targets}
    tasks = []
    for item in items:
        article = articles[item.article_id]
        tasks.append(
            {
                "article_id": article.id,
                "text_hash": text_hash(article.text),
                "title": article.title,
                "text": article.text,
                "lang": article.lang,
                "source": article.source,
                "url": article.url,
                **(
                    {"target": item.target, "target_name": names.get(item.target, item.target)}
                    if item.target
                    else {}
                ),
                "agreement": item.agreement,
                "votes": votes_text(schema, task, item.votes),
                "suggestion": (suggestions or {}).get(item.unit, NO_SUGGESTION),
                "reason": (reasons or {}).get(item.unit, DISAGREEMENT),
            }
        )
    return tasks


def send_to_review(
    conn: Connection,
    schema: Schema,
    task: str,
    items: list[GoldItem],
    store: Store,
    settings: Settings | None = None,
    suggestions: Mapping[str, str] | None = None,
    reasons: Mapping[str, str] | None = None,
) -> PushReport:
    """Create (or update) the review project and push the items it does not have yet."""
    project = review_project(conn, schema, task, settings)
    return push(
        conn, project, review_tasks(schema, task, items, store, suggestions, reasons), settings=settings
    )
