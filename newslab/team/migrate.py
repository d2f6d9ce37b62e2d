"""Moving an embedded setup onto the team stack: Label Studio projects with their annotations,
then MLflow runs and registered models; nothing lost is checked, not assumed.

Label Studio: each newslab project is exported whole (the immutable snapshot ``pull`` keeps in
``data/annotations/snapshots``) and imported into the team's server through ``push``, each task
with its annotations, drafts and predictions in one import (one transaction: a task arrives with
all of them or not at all, so a re-run after a failure adds exactly the missing tasks). Label
Studio keeps each source annotation's id as the copy's ``import_id`` and resolves annotators by
e-mail; accounts missing on the team server are made (passwords in ``data/team/annotators.json``,
0600). The check: both sides' labels, normalised as ``pull`` does and stripped of ids and
timestamps, are counted and hashed; a migration whose hashes differ says so and fails.

MLflow: ``newslab.team.mlflow_copy`` (client API only), with the same before/after check.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from annotation.client import Connection
from annotation.projects import REVIEW, ProjectRef, find_projects, review_project, setup
from annotation.pull import export_snapshot, normalize, read_snapshot
from annotation.push import push, task_key
from annotation.users import ensure_annotators, users_by_email
from core.errors import NewslabError
from core.files import atomic_write
from core.schema import Schema
from core.settings import Settings
from newslab.team.mlflow_copy import CopyReport

#: what a copied annotation keeps (Label Studio's import takes no more: not its timestamps)
_ANNOTATION_FIELDS = ("id", "result", "was_cancelled", "ground_truth", "lead_time")
_DRAFT_FIELDS = ("id", "result", "lead_time", "was_postponed", "annotation")
_PREDICTION_FIELDS = ("result", "score", "model_version")


@dataclass(frozen=True)
class Labels:
    """One side's labels of a project: how many tasks and records, and a hash of them."""

    tasks: int
    records: int
    sha256: str


@dataclass(frozen=True)
class ProjectCheck:
    title: str
    before: Labels
    after: Labels
    added: int  #: tasks imported by this run (0 on a re-run)
    skipped: list[str] = field(default_factory=list)  #: task keys the team server holds with other text

    @property
    def ok(self) -> bool:
        return self.before == self.after and not self.skipped


def labels_of(tasks: list[dict], schema: Schema, task_name: str, where: str) -> Labels:
    """Count and hash a project's labels in an id-free, time-free form (the same on any server)."""
    records = normalize(tasks, schema, task_name, "", where)
    rows = sorted(
        json.dumps(
            [
                r.kind,
                r.article_id,
                r.target,
                r.text_hash,
                r.annotator,
                sorted(r.labels),
                r.cancelled,
                r.ground_truth,
                r.comment,
                r.lead_time,
                r.score,
            ],
            sort_keys=True,
        )
        for r in records
    )
    digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return Labels(len(tasks), len(rows), digest)


def _email(value: object) -> str:
    return str(value.get("email", "")) if isinstance(value, dict) else str(value or "")


def _pick(item: dict, names: tuple[str, ...]) -> dict:
    return {k: item[k] for k in names if k in item and item[k] is not None}


def import_item(task: dict) -> tuple[dict, list[dict], dict]:
    """A source task as ``push`` takes it: its data, its predictions, and the annotations and
    drafts that travel with it (annotators by e-mail)."""
    annotations = [
        {**_pick(a, _ANNOTATION_FIELDS), "completed_by": {"email": _email(a.get("completed_by"))}}
        for a in task.get("annotations") or []
    ]
    drafts = [{**_pick(d, _DRAFT_FIELDS), "user": _email(d.get("user"))} for d in task.get("drafts") or []]
    predictions = [_pick(p, _PREDICTION_FIELDS) for p in task.get("predictions") or []]
    extras: dict = {"annotations": annotations}
    if drafts:
        extras["drafts"] = drafts
    return task["data"], predictions, extras


def people(tasks: list[dict]) -> set[str]:
    """Every e-mail that annotated or drafted in the tasks."""
    out = {_email(a.get("completed_by")) for t in tasks for a in t.get("annotations") or []}
    out |= {_email(d.get("user")) for t in tasks for d in t.get("drafts") or []}
    return {e for e in out if e}


def ensure_members(dest: Connection, emails: set[str], settings: Settings, store: Path) -> list[str]:
    """Make the team server's accounts for the e-mails it lacks; the ones made."""
    missing = sorted(emails - set(users_by_email(dest)))
    if missing:
        ensure_annotators(dest, missing, settings, store=store)
    return missing


def _dest_projects(dest: Connection, schema: Schema, projects: list[ProjectRef], settings: Settings) -> dict:
    siblings = sorted({p.annotator for p in projects if p.annotator and p.annotator != REVIEW})
    setup(dest, schema, siblings or None, settings)
    for task in sorted({p.task for p in projects if p.annotator == REVIEW}):
        review_project(dest, schema, task, settings)
    return {p.title: p for p in find_projects(dest, schema, settings)}


def migrate_labelstudio(
    source: Connection,
    dest: Connection,
    schema: Schema,
    settings: Settings,
    members: Path,
    on_project: Callable[[str], None] | None = None,
) -> list[ProjectCheck]:
    """Copy every newslab project of ``source`` into ``dest``; a check per project.

    Idempotent: tasks are matched by key (article, target), so a re-run imports only what the
    team server lacks; the source is only read.
    """
    projects = find_projects(source, schema, settings)
    if not projects:
        raise NewslabError(
            f"no newslab project on {source.url} (prefix {settings.ls_project_prefix!r}).",
            "Nothing to migrate; check NEWSLAB_LS_PROJECT_PREFIX.",
        )
    there = _dest_projects(dest, schema, projects, settings)
    checks = []
    for project in projects:
        if on_project:
            on_project(project.title)
        tasks = read_snapshot(export_snapshot(source, project, settings).path)
        ensure_members(dest, people(tasks), settings, members)
        items = [import_item(t) for t in tasks]
        data = [d for d, _, _ in items]
        report = push(
            dest,
            there[project.title],
            data,
            predictions={task_key(d): p for d, p, _ in items if p},
            extras={task_key(d): e for d, _, e in items},
            settings=settings,
        )
        copied = read_snapshot(export_snapshot(dest, there[project.title], settings).path)
        where = f"Label Studio project {project.title!r}"
        checks.append(
            ProjectCheck(
                project.title,
                labels_of(tasks, schema, project.task, f"{where} at {source.url}"),
                labels_of(copied, schema, project.task, f"{where} at {dest.url}"),
                report.added,
                sorted(report.changed),
            )
        )
    return checks


def write_report(settings: Settings, report: dict) -> Path:
    """Keep what a migration found (``data/team/migrations/<time>.json``): the record of the move."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = settings.data_dir / "team" / "migrations" / f"{stamp}.json"
    atomic_write(path, json.dumps(report, indent=1, default=str))
    return path


def as_dict(checks: list[ProjectCheck]) -> list[dict]:
    return [{**asdict(c), "ok": c.ok} for c in checks]


@dataclass(frozen=True)
class Migration:
    projects: list[ProjectCheck]
    mlflow: CopyReport | None  #: None when not asked for
    report: Path

    @property
    def ok(self) -> bool:
        labels = all(c.ok for c in self.projects)
        tracking = self.mlflow is None or self.mlflow.lossless
        return labels and tracking


def embedded_labelstudio(settings: Settings) -> Connection:
    """This machine's own Label Studio (``annotate serve``), whatever NEWSLAB_LS_URL says."""
    from annotation import server

    info = server.status(settings)
    if not info.running:
        raise NewslabError(
            f"the embedded Label Studio is not running ({info.url}); migration reads its projects.",
            "Start it with `newslab annotate serve`, or pass --no-labelstudio.",
        )
    return Connection(info.url.rstrip("/"), server.credentials(settings).token)


def migrate(
    settings: Settings,
    schema: Schema,
    *,
    labelstudio: bool = True,
    mlflow: bool = True,
    on_item: Callable[[str], None] | None = None,
) -> Migration:
    """Move this data directory's embedded Label Studio and MLflow store onto its team stack
    (``newslab team up``); re-runnable; the report is kept under ``data/team/migrations``."""
    from newslab.team import stack

    values = stack.env(settings)
    checks: list[ProjectCheck] = []
    copied = None
    if labelstudio:
        dest = Connection(values["NEWSLAB_LS_URL"], values["LABEL_STUDIO_API_KEY"])
        members = stack.team_dir(settings) / "annotators.json"
        checks = migrate_labelstudio(embedded_labelstudio(settings), dest, schema, settings, members, on_item)
    if mlflow:
        from newslab.team import mlflow_copy

        source = f"sqlite:///{settings.mlflow_db.resolve()}"
        if not settings.mlflow_db.exists():
            raise NewslabError(f"no embedded MLflow store at {settings.mlflow_db}.", "Pass --no-mlflow.")
        copied = mlflow_copy.copy_tracking(source, values["NEWSLAB_TRACKING_URI"], on_item=on_item)
    report = {
        "labelstudio": as_dict(checks),
        "mlflow": {**asdict(copied), "lossless": copied.lossless} if copied is not None else None,
    }
    return Migration(checks, copied, write_report(settings, report))
