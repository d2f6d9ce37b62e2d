"""Labels made away from the Label Studio screen (a JSONL file), submitted as an annotator's annotations.

Each line is ``{"article_id", "target"?, "labels"}``. The labels are checked
against the schema (a bad line is named), matched to the tasks already pushed
to the annotator's project, and created through Label Studio's API with the
annotator's own token, so they are that annotator's annotations like any made
on screen. Submitting again adds only what is missing; a task the annotator
already annotated is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from annotation.client import Connection, with_retries
from annotation.projects import ProjectRef
from annotation.push import labels_field, task_key
from core.errors import NewslabError
from core.jsonl import read_jsonl
from core.schema import Schema


@dataclass(frozen=True)
class LabelRecord:
    article_id: str
    target: str
    labels: tuple[str, ...]

    @property
    def key(self) -> str:
        return task_key({"article_id": self.article_id, "target": self.target})


@dataclass
class SubmitReport:
    project: str
    added: int = 0
    existing: int = 0  #: tasks the annotator had already annotated
    missing: list[str] = field(default_factory=list)  #: keys with no task in the project


def read_labels(path: Path, schema: Schema, task: str) -> list[LabelRecord]:
    """The file's records; malformed lines, unknown labels and repeated keys are errors naming the line."""
    spec = schema.task(task)
    out: list[LabelRecord] = []
    seen: dict[str, int] = {}
    for line_no, row in read_jsonl(path, "label record"):
        where = f"{path}: line {line_no}"
        try:
            labels = tuple(labels_field(row, where))
            record = LabelRecord(str(row["article_id"]), str(row.get("target") or ""), labels)
        except (KeyError, TypeError) as exc:
            raise NewslabError(f"{where}: not a label record ({type(exc).__name__}: {exc}).") from None
        schema.validate_labels(task, list(record.labels), where)
        if not spec.multi_label and len(record.labels) != 1:
            raise NewslabError(f"{where}: {task} takes exactly one label, got {len(record.labels)}.")
        if spec.needs_target and not record.target:
            raise NewslabError(f"{where}: {task} needs a target.")
        if record.key in seen:
            raise NewslabError(f"{where}: {record.key} already labelled on line {seen[record.key]}.")
        seen[record.key] = line_no
        out.append(record)
    return out


def _annotated_by(conn: Connection, project_id: int, user_id: int) -> tuple[dict[str, int], set[str]]:
    """key -> task id of the project's tasks, and the keys this user has an annotation on."""
    client = conn.client()
    tasks = with_retries(
        lambda: list(client.tasks.list(project=project_id, page_size=1000, fields="all")), "listing tasks"
    )
    ids: dict[str, int] = {}
    done: set[str] = set()
    for t in tasks:
        key = task_key(t.data or {})
        ids[key] = t.id
        for a in t.annotations or []:
            who = a.get("completed_by") if isinstance(a, dict) else getattr(a, "completed_by", None)
            who = who.get("id") if isinstance(who, dict) else who
            if who == user_id:
                done.add(key)
    return ids, done


def submit(
    conn: Connection,
    project: ProjectRef,
    task: str,
    records: list[LabelRecord],
    on_progress: Callable[[int], None] | None = None,
) -> SubmitReport:
    """Create an annotation per record on its task, as the user whose token ``conn`` carries."""
    import httpx

    whoami = httpx.get(f"{conn.url}/api/current-user/whoami", headers=conn.headers, timeout=30)
    if whoami.status_code != 200:
        raise NewslabError(
            f"Label Studio at {conn.url} refused the annotator's token (HTTP {whoami.status_code})."
        )
    me = whoami.json()["id"]
    ids, done = _annotated_by(conn, project.id, me)
    report = SubmitReport(project.title)
    client = conn.client()
    for record in records:
        if record.key not in ids:
            report.missing.append(record.key)
        elif record.key in done:
            report.existing += 1
        else:
            result = [
                {
                    "from_name": task,
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": list(record.labels)},
                }
            ]
            with_retries(
                lambda r=result, k=record.key: client.annotations.create(id=ids[k], result=r),
                f"annotating {record.key} in {project.title!r}",
            )
            report.added += 1
        if on_progress:
            on_progress(1)
    return report
