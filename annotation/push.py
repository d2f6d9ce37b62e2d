"""Push articles to Label Studio as tasks: idempotent, batched, resumable.

A task is keyed by its article id (and target, for stance). Pushing again adds
only what is missing; an article whose text changed under the same key, or a
new version of an article already pushed (same URL, new id), is reported and
not pushed. Optional model predictions become pre-annotations: with new tasks, and on tasks
already there that have no prediction of that ``model_version`` yet (a new model's
predictions are added; the same version again adds nothing).

One push per project at a time: a push holds a lock keyed by the server URL and project
(``data/annotations/locks/``), so a second concurrent push refuses, naming the first one's PID,
instead of importing every task again. Tasks already present twice (same key, or same text and
target under two keys) are reported by every push and by ``newslab annotate verify``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from annotation.client import Connection, with_retries
from annotation.prelabel import prediction
from annotation.projects import ProjectRef
from annotation.targets import mentioned_targets
from core.errors import NewslabError
from core.hashing import text_hash
from core.jsonl import read_jsonl
from core.locks import lock
from core.schema import Schema
from core.settings import Settings, get_settings


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
    #: predictions added to tasks already there, and those already there with their model version
    predicted: int = 0
    predictions_kept: int = 0
    duplicates: list[Duplicate] = field(default_factory=list)  #: tasks the project already had twice


@dataclass(frozen=True)
class Duplicate:
    """Several tasks of one project for one item: ``why`` is "same key" or "same text"."""

    key: str
    task_ids: tuple[int, ...]
    why: str

    def __str__(self) -> str:
        return f"{self.key}: tasks {', '.join(map(str, self.task_ids))} ({self.why})"


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
            labels = labels_field(row, f"{path}: line {line_no}")
            key = task_key(row)
        except (KeyError, TypeError) as exc:
            raise NewslabError(f"{path}: line {line_no}: not a prediction record ({exc}).") from None
        schema.validate_labels(task, labels, f"{path}: line {line_no}")
        if not spec.multi_label and len(labels) != 1:
            raise NewslabError(f"{path}: line {line_no}: {task} takes exactly one label.")
        out[key] = prediction(
            task, labels, float(row.get("score", 0.0)), str(row.get("model_version", "unknown"))
        )
    return out


def labels_field(row: dict, where: str) -> list[str]:
    """A record's ``labels``: a list of strings; a bare string ("AGREE") is an error, not five labels."""
    labels = row["labels"]
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise NewslabError(
            f"{where}: field labels is {json.dumps(labels, ensure_ascii=False)}, not a list of labels.",
            'Write the labels as a JSON list, e.g. "labels": ["AGREE"] (or [] for none).',
        )
    return labels


def read_ids(path: Path) -> list[str]:
    """Article ids, one per line (UTF-8); a line that is not UTF-8 is an error naming it."""
    ids = []
    for line_no, raw in enumerate(Path(path).read_bytes().splitlines(), start=1):
        try:
            line = raw.decode("utf-8-sig" if line_no == 1 else "utf-8").strip()
        except UnicodeDecodeError as exc:
            raise NewslabError(
                f"{path}: line {line_no}: not UTF-8 ({exc.reason}).", "Save the file as UTF-8."
            ) from None
        if line:
            ids.append(line)
    return ids


def list_tasks(conn: Connection, project_id: int) -> list[tuple[int, dict]]:
    """(task id, data) of every task in a project (one paged listing)."""
    client = conn.client()
    tasks = with_retries(
        lambda: list(client.tasks.list(project=project_id, page_size=1000, include="id,data")),
        "listing tasks",
    )
    return [(int(t.id), t.data or {}) for t in tasks]


def find_duplicates(tasks: list[tuple[int, dict]]) -> list[Duplicate]:
    """Items with several tasks: the same key twice, or the same text and target under two keys."""
    by_key: dict[str, list[int]] = {}
    by_text: dict[tuple[str, str], dict[str, int]] = {}
    for task_id, data in tasks:
        if "article_id" not in data:
            continue
        key = task_key(data)
        by_key.setdefault(key, []).append(task_id)
        if data.get("text_hash"):
            by_text.setdefault((data["text_hash"], str(data.get("target", ""))), {}).setdefault(key, task_id)
    out = [Duplicate(k, tuple(sorted(ids)), "same key") for k, ids in sorted(by_key.items()) if len(ids) > 1]
    for keys in by_text.values():
        if len(keys) > 1:
            out.append(Duplicate(" = ".join(sorted(keys)), tuple(sorted(keys.values())), "same text"))
    return out


def existing_tasks(conn: Connection, project_id: int) -> dict[str, dict]:
    """key -> {id, text_hash, url} of the tasks already in a project (one paged listing)."""
    return _by_key(list_tasks(conn, project_id))


def _by_key(tasks: list[tuple[int, dict]]) -> dict[str, dict]:
    out = {}
    for task_id, data in tasks:
        if "article_id" in data:
            out[task_key(data)] = {
                "id": task_id,
                "text_hash": data.get("text_hash"),
                "url": data.get("url", ""),
            }
    return out


def push_lock_path(conn: Connection, project: ProjectRef, settings: Settings | None = None) -> Path:
    """The lock of one project on one server: two data dirs pushing to it still share a machine's lock."""
    settings = settings or get_settings()
    digest = hashlib.sha256(f"{conn.url}|{project.id}".encode()).hexdigest()[:12]
    name = project.title.replace("/", "__")
    return settings.annotations_dir / "locks" / f".push-{name}-{digest}.lock"


def push(
    conn: Connection,
    project: ProjectRef,
    tasks: list[dict],
    predictions: dict[str, dict] | dict[str, list[dict]] | None = None,
    batch_size: int = 5000,
    on_progress: Callable[[int], None] | None = None,
    settings: Settings | None = None,
    extras: dict[str, dict] | None = None,
) -> PushReport:
    """Import the tasks a project does not have yet, in batches; safe to re-run after any failure.

    ``extras`` (task key -> fields such as ``annotations``) go into a task's import with it, in
    the same transaction: a migrated task arrives with its annotations or not at all.
    Holds the project's push lock throughout: a concurrent push refuses (``core.locks.Busy``).
    """
    what = f"Label Studio project {project.title!r} at {conn.url}"
    report = PushReport(project.title)
    with lock(push_lock_path(conn, project, settings), what):
        try:
            return _push(
                conn, project, tasks, predictions or {}, batch_size, on_progress, extras or {}, report
            )
        except NewslabError as exc:
            # a server that died mid-push: what is in is in (each batch is one transaction)
            raise NewslabError(
                f"push to {what} stopped after {report.added} new task(s): {exc.message}",
                "Nothing is lost: run the same push again once Label Studio answers; the tasks "
                "already imported are skipped and only the missing ones are added.",
            ) from None


def _push(
    conn: Connection,
    project: ProjectRef,
    tasks: list[dict],
    predictions: dict,
    batch_size: int,
    on_progress: Callable[[int], None] | None,
    extras: dict[str, dict],
    report: PushReport,
) -> PushReport:
    listed = list_tasks(conn, project.id)
    report.duplicates = find_duplicates(listed)
    present = _by_key(listed)
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
        report.added += _import_batch(conn, project, batch, predictions, extras)
        if on_progress:
            on_progress(len(batch))
    if predictions:
        there = {present[task_key(d)]["id"]: task_key(d) for d in tasks if task_key(d) in present}
        there = {i: k for i, k in there.items() if k in predictions and k not in report.changed}
        added, kept = _add_predictions(conn, project, there, predictions, batch_size)
        report.predicted, report.predictions_kept = added, kept
    return report


def _as_list(prediction: dict | list[dict]) -> list[dict]:
    return prediction if isinstance(prediction, list) else [prediction]


def prediction_versions(conn: Connection, project_id: int) -> dict[int, set[str]]:
    """task id -> the model versions of its predictions (one listing of the project's predictions)."""
    client = conn.client()
    listed = with_retries(lambda: list(client.predictions.list(project=project_id)), "listing predictions")
    out: dict[int, set[str]] = {}
    for p in listed:
        out.setdefault(int(p.task), set()).add(str(p.model_version or ""))
    return out


def _add_predictions(
    conn: Connection, project: ProjectRef, tasks: dict[int, str], predictions: dict, batch_size: int
) -> tuple[int, int]:
    """Import predictions onto tasks already there, skipping a task's model version it already has;
    retried without ever adding one twice. Returns (added, already there)."""
    client = conn.client()

    def pending() -> list[dict]:
        have = prediction_versions(conn, project.id)
        return [
            {**p, "task": task_id}
            for task_id, key in tasks.items()
            for p in _as_list(predictions[key])
            if str(p.get("model_version", "")) not in have.get(task_id, set())
        ]

    todo = pending()
    kept = sum(len(_as_list(predictions[k])) for k in tasks.values()) - len(todo)
    added = 0
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        left = {(p["task"], p["model_version"]) for p in batch}

        def drop_already_added(left: set = left) -> None:
            done = prediction_versions(conn, project.id)
            for task_id, version in list(left):
                if version in done.get(task_id, set()):
                    left.discard((task_id, version))

        def send(batch: list[dict] = batch, left: set = left) -> int:
            request = [p for p in batch if (p["task"], p["model_version"]) in left]
            if request:
                client.projects.import_predictions(id=project.id, request=request)
            return len(request)

        added += with_retries(
            send, f"adding predictions in {project.title!r}", before_retry=drop_already_added
        )
    return added, kept


def _import_batch(
    conn: Connection, project: ProjectRef, batch: list[dict], predictions: dict, extras: dict[str, dict]
) -> int:
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
        request = [{**_task(d, predictions.get(k)), **extras.get(k, {})} for k, d in pending.items()]
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
