"""Push articles to Label Studio as tasks: idempotent, batched, resumable.

A task is keyed by its article id (and target, for stance). Pushing again adds
only what is missing; an article whose text changed under the same key, or a
new version of an article already pushed (same URL, new id), is reported and
not pushed. Optional model predictions become pre-annotations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from annotation.client import Connection, with_retries
from annotation.projects import ProjectRef
from annotation.targets import mentioned_targets
from core.errors import NewslabError
from core.hashing import text_hash
from core.jsonl import read_jsonl
from core.schema import Schema


@dataclass(frozen=True)
class ArticleRow:
    id: str
    title: str
    text: str
    lang: str
    source: str = ""
    url: str = ""


@dataclass
class PushReport:
    project: str
    added: int = 0
    existing: int = 0
    changed: list[str] = field(default_factory=list)  #: task keys not pushed because the article changed


def task_key(data: dict) -> str:
    return f"{data['article_id']}:{data['target']}" if data.get("target") else str(data["article_id"])


def make_tasks(schema: Schema, task: str, articles: list[ArticleRow]) -> list[dict]:
    """Task data for a project: one per article (events), one per article and mentioned target (stance)."""
    spec = schema.task(task)
    base = [
        {
            "article_id": a.id,
            "text_hash": text_hash(a.text),
            "title": a.title,
            "text": a.text,
            "lang": a.lang,
            "source": a.source,
            "url": a.url,
        }
        for a in articles
    ]
    if not spec.needs_target:
        return base
    names = {t.code: t.name for t in schema.targets}
    out: list[dict] = []
    by_lang: dict[str, list[int]] = {}
    for i, a in enumerate(articles):
        by_lang.setdefault(a.lang, []).append(i)
    mentions: dict[int, dict[str, int]] = {}
    for lang, indices in by_lang.items():
        for i, found in zip(
            indices, mentioned_targets(schema, [articles[i].text for i in indices], lang), strict=True
        ):
            mentions[i] = found
    for i, data in enumerate(base):
        for code in sorted(mentions.get(i, {})):
            out.append({**data, "target": code, "target_name": names[code], "mentions": mentions[i][code]})
    return out


def load_predictions(path: Path, schema: Schema, task: str) -> dict[str, dict]:
    """Pre-annotations from JSONL: {"article_id", "target"?, "labels", "score"?, "model_version"}."""
    spec = schema.task(task)
    out: dict[str, dict] = {}
    for line_no, row in read_jsonl(path, "prediction record"):
        try:
            labels = list(row["labels"])
            key = task_key(row)
        except (KeyError, TypeError) as exc:
            raise NewslabError(f"{path}: line {line_no}: not a prediction record ({exc}).") from None
        schema.validate_labels(task, labels, f"{path}: line {line_no}")
        if not spec.multi_label and len(labels) != 1:
            raise NewslabError(f"{path}: line {line_no}: {task} takes exactly one label.")
        out[key] = {
            "model_version": str(row.get("model_version", "unknown")),
            "score": float(row.get("score", 0.0)),
            "result": [
                {"from_name": task, "to_name": "text", "type": "choices", "value": {"choices": labels}}
            ],
        }
    return out


def existing_tasks(conn: Connection, project_id: int) -> dict[str, dict]:
    """key -> {id, text_hash, url} of the tasks already in a project (one paged listing)."""
    client = conn.client()
    tasks = with_retries(
        lambda: list(client.tasks.list(project=project_id, page_size=1000, include="id,data")),
        "listing tasks",
    )
    out = {}
    for t in tasks:
        data = t.data or {}
        if "article_id" in data:
            out[task_key(data)] = {"id": t.id, "text_hash": data.get("text_hash"), "url": data.get("url", "")}
    return out


def push(
    conn: Connection,
    project: ProjectRef,
    tasks: list[dict],
    predictions: dict[str, dict] | dict[str, list[dict]] | None = None,
    batch_size: int = 5000,
    on_progress: Callable[[int], None] | None = None,
) -> PushReport:
    """Import the tasks a project does not have yet, in batches; safe to re-run after any failure."""
    report = PushReport(project.title)
    present = existing_tasks(conn, project.id)
    urls = {(v["url"], k.partition(":")[2]) for k, v in present.items() if v["url"]}
    todo = []
    for data in tasks:
        key = task_key(data)
        if key in present:
            if present[key]["text_hash"] != data["text_hash"]:
                report.changed.append(key)
            else:
                report.existing += 1
            continue
        if data.get("url") and (data["url"], data.get("target", "")) in urls:
            report.changed.append(key)  # a new version of an article already pushed
            continue
        todo.append(data)
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        report.added += _import_batch(conn, project, batch, predictions or {})
        if on_progress:
            on_progress(len(batch))
    return report


def _import_batch(conn: Connection, project: ProjectRef, batch: list[dict], predictions: dict) -> int:
    """Import one batch, retrying transient failures without ever importing a task twice."""
    client = conn.client()
    pending = {task_key(d): d for d in batch}

    def drop_already_imported() -> None:
        # a call that failed may still have imported its tasks
        for key in set(existing_tasks(conn, project.id)) & set(pending):
            del pending[key]

    def send() -> int:
        if not pending:
            return 0
        request = [_task(d, predictions.get(k)) for k, d in pending.items()]
        result = client.projects.import_tasks(id=project.id, request=request, return_task_ids=True)
        return int(result.task_count or 0)

    return with_retries(send, f"importing tasks into {project.title!r}", before_retry=drop_already_imported)


def _task(data: dict, prediction: dict | list[dict] | None) -> dict:
    task: dict = {"data": data}
    if prediction:
        task["predictions"] = prediction if isinstance(prediction, list) else [prediction]
    return task


def select_articles(
    store,
    ids: Iterable[str] | None = None,
    limit: int | None = None,
    lang: str | None = None,  # type: ignore[no-untyped-def]
) -> list[ArticleRow]:
    """Articles of the corpus store to push (all, or the given ids in the given order)."""
    columns = ["id", "title", "text", "lang", "source", "url"]
    wanted = list(dict.fromkeys(ids)) if ids is not None else None
    rows = store.table(columns, ids=wanted).to_pylist()
    if wanted is not None:
        by_id = {r["id"]: r for r in rows}
        missing = [i for i in wanted if i not in by_id]
        if missing:
            raise NewslabError(
                f"{len(missing)} article id(s) are not in the corpus: {', '.join(missing[:10])}.",
                "Ingest them first with `newslab corpus ingest`.",
            )
        rows = [by_id[i] for i in wanted]
    if lang:
        rows = [r for r in rows if r["lang"] == lang]
    if limit:
        rows = rows[:limit]
    return [ArticleRow(**r) for r in rows]
