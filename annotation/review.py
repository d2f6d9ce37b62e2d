"""The review queue: low-agreement items sent back to Label Studio for an adjudicator.

Items whose annotators agree less than ``gold.review_below`` go to the task's
review project (``newslab/<task>/review``), each with every annotator's labels
as a pre-annotation (model version = the annotator) so the adjudicator sees the
disagreement. What the adjudicator submits there is pulled like any annotation
and, with ``gold.method: ground_truth``, becomes the item's gold label. Sending
again adds only the items not yet in the queue.
"""

from __future__ import annotations

from annotation.client import Connection
from annotation.gold import GoldItem
from annotation.projects import review_project
from annotation.push import PushReport, push, select_articles, task_key
from core.hashing import text_hash
from core.schema import Schema
from core.settings import Settings
from corpus.store import Store


def review_tasks(
    schema: Schema, task: str, items: list[GoldItem], store: Store
) -> tuple[list[dict], dict[str, list[dict]]]:
    """Task data for the review project and, per task key, one pre-annotation per annotator."""
    articles = {a.id: a for a in select_articles(store, [item.article_id for item in items])}
    names = {t.code: t.name for t in schema.targets}
    tasks = []
    predictions: dict[str, list[dict]] = {}
    for item in items:
        article = articles[item.article_id]
        data = {
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
            "votes": "; ".join(f"{who}: {', '.join(labels) or '-'}" for who, labels in item.votes),
        }
        tasks.append(data)
        predictions[task_key(data)] = [
            {
                "model_version": who,
                "score": item.agreement,
                "result": [
                    {
                        "from_name": task,
                        "to_name": "text",
                        "type": "choices",
                        "value": {"choices": list(labels)},
                    }
                ],
            }
            for who, labels in item.votes
        ]
    return tasks, predictions


def send_to_review(
    conn: Connection,
    schema: Schema,
    task: str,
    items: list[GoldItem],
    store: Store,
    settings: Settings | None = None,
) -> PushReport:
    """Create the review project if needed and push the items it does not have yet."""
    project = review_project(conn, schema, task, settings)
    tasks, predictions = review_tasks(schema, task, items, store)
    return push(conn, project, tasks, predictions)
