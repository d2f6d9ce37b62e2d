"""``newslab annotate setup --backend URL``: Label Studio's side of the connection.

The backend is checked first (it answers, serves an annotated task of this schema with its
labels), before anything is written to Label Studio. Each of the task's projects (the main one
and the annotators', not the review project, whose predictions are the annotators' labels) then
gets one ML backend connection: made when missing, its address updated when it moved, left as
it is otherwise, so re-running adds nothing.

The project is set so that a task gets the backend's prediction when it is opened: Label Studio
1.23 asks the backend from ``GET /api/tasks/<id>`` when ``show_collab_predictions`` is on and
the task has no prediction, and from the labeling stream when the project's ``model_version``
is the backend connection's title (then it shows the predictions of the version the backend
reports). Both are set here.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from annotation.client import Connection, with_retries
from annotation.projects import REVIEW, ProjectRef, find_projects
from core.errors import NewslabError
from core.schema import Schema
from core.settings import Settings
from newslab.backend.choose import annotated_task
from newslab.backend.status import fetch

LOCAL_REFUSED = (
    "Label Studio refuses ML backends on local or private addresses by default. Start it with "
    "ML_BLOCK_LOCAL_IP=false (and SSRF_PROTECTION_ENABLED=false, for the training webhooks), or serve "
    "the backend at an address Label Studio may reach."
)


@dataclass(frozen=True)
class BackendInfo:
    url: str
    task: str
    model_version: str
    labels: list[str]


@dataclass(frozen=True)
class Connected:
    project: ProjectRef
    backend_id: int
    action: str  #: created, updated (its address) or unchanged
    webhook: bool  #: Label Studio sends the project's annotation events to the backend


def title_of(task: str) -> str:
    """The connection's title, which the project's ``model_version`` names."""
    return f"newslab-{task}"


def check_backend(url: str, schema: Schema) -> BackendInfo:
    """The backend at ``url`` answers and serves an annotated task of ``schema`` with its labels."""
    url = url.rstrip("/")
    status = fetch(url)
    task = status.get("task")
    if not task or "model_version" not in status:
        raise NewslabError(f"{url} answers, but not as a newslab backend (no task or model_version).")
    annotated_task(schema, task)
    codes = schema.task(task).codes
    labels = list(status.get("labels") or [])
    if labels and labels != list(codes):
        raise NewslabError(
            f"the backend at {url} serves {status['model_version']}, a {task} model with labels "
            f"{', '.join(labels)}; this schema's {task} labels are {', '.join(codes)}.",
            "Serve a model trained on the current schema.",
        )
    return BackendInfo(url, task, str(status["model_version"]), labels or list(codes))


def _webhook(conn: Connection, project_id: int, url: str) -> bool:
    """The project sends its events to ``url/webhook`` (made when missing; False when refused)."""
    hook = f"{url}/webhook"
    listed = httpx.get(
        f"{conn.url}/api/webhooks/", params={"project": project_id}, headers=conn.headers, timeout=30
    )
    if listed.status_code == 200 and any(w.get("url") == hook for w in listed.json()):
        return True
    made = httpx.post(
        f"{conn.url}/api/webhooks/",
        json={"project": project_id, "url": hook, "send_payload": True, "send_for_all_actions": True},
        headers=conn.headers,
        timeout=30,
    )
    return made.status_code in (200, 201)


def _connect_one(conn: Connection, project: ProjectRef, info: BackendInfo) -> Connected:
    client = conn.client()
    title = title_of(info.task)
    backends = with_retries(lambda: list(client.ml.list(project=project.id)), "listing ML backends")
    same = [b for b in backends if (b.url or "").rstrip("/") == info.url]
    moved = [b for b in backends if b.title == title]
    try:
        if same:
            backend_id, action = same[0].id, "unchanged"
        elif moved:
            with_retries(lambda: client.ml.update(id=moved[0].id, url=info.url), "updating the ML backend")
            backend_id, action = moved[0].id, "updated"
        else:
            made = with_retries(
                lambda: client.ml.create(url=info.url, project=project.id, title=title, is_interactive=False),
                f"connecting the backend to {project.title!r}",
            )
            backend_id, action = made.id, "created"
    except NewslabError as exc:
        if "reserved network address" in exc.message:  # ML_BLOCK_LOCAL_IP
            raise NewslabError(exc.message, LOCAL_REFUSED) from None
        raise
    current = with_retries(lambda: client.projects.get(id=project.id), f"reading project {project.title!r}")
    if current.model_version != title or not current.show_collab_predictions:
        with_retries(
            lambda: client.projects.update(id=project.id, model_version=title, show_collab_predictions=True),
            f"updating project {project.title!r}",
        )
    return Connected(project, int(backend_id or 0), action, _webhook(conn, project.id, info.url))


def connect_backend(
    conn: Connection, schema: Schema, info: BackendInfo, settings: Settings | None = None
) -> list[Connected]:
    """Connect the backend to its task's projects (idempotent)."""
    projects = [
        p for p in find_projects(conn, schema, settings) if p.task == info.task and p.annotator != REVIEW
    ]
    if not projects:
        raise NewslabError(
            f"no Label Studio project for task {info.task!r}.", "Run `newslab annotate setup` first."
        )
    return [_connect_one(conn, project, info) for project in projects]
