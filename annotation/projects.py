"""Label Studio projects made from the schema: one per annotated task, plus per-annotator siblings.

``setup`` creates a project when it is missing and updates its labeling config
when the schema changed. A change that removes a label which annotations or
drafts still use is refused, with the tasks it would orphan.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import httpx

from annotation.client import Connection, with_retries
from annotation.label_config import label_config
from core.errors import NewslabError
from core.schema import Schema
from core.settings import Settings, get_settings

#: the sibling project of low-agreement items, where an adjudicator decides (``newslab/<task>/review``)
REVIEW = "review"


@dataclass(frozen=True)
class ProjectRef:
    task: str
    id: int
    title: str
    annotator: str | None = None


@dataclass(frozen=True)
class SetupResult:
    project: ProjectRef
    action: str  #: created, updated or unchanged


def title_of(task: str, annotator: str | None = None, settings: Settings | None = None) -> str:
    prefix = (settings or get_settings()).ls_project_prefix
    return f"{prefix}/{task}" + (f"/{annotator}" if annotator else "")


def instructions(schema: Schema, task: str) -> str | None:
    """The task's guidelines (the schema's ``guidelines:``) as HTML for the project; None when unset."""
    path = schema.guidelines_path(task)
    if path is None:
        return None
    from markdown_it import MarkdownIt  # rich's Markdown parser; html off: the file's text is not trusted

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NewslabError(f"{path}: the guidelines of task {task!r} cannot be read ({exc}).") from None
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def find_projects(conn: Connection, schema: Schema, settings: Settings | None = None) -> list[ProjectRef]:
    """The projects newslab manages on this server (matched by exact title)."""
    settings = settings or get_settings()
    client = conn.client()
    projects = with_retries(lambda: list(client.projects.list(page_size=1000)), "listing projects")
    out = []
    for project in projects:
        for task in schema.tasks:
            main = title_of(task, settings=settings)
            if project.title == main:
                out.append(ProjectRef(task, project.id, project.title))
            elif project.title.startswith(main + "/"):
                out.append(ProjectRef(task, project.id, project.title, project.title[len(main) + 1 :]))
    return sorted(out, key=lambda p: (p.task, p.annotator or ""))


def validate_config(conn: Connection, config: str, where: str) -> None:
    """Ask Label Studio itself whether the config is valid, before any project uses it."""
    response = httpx.post(
        f"{conn.url}/api/projects/validate/", json={"label_config": config}, headers=conn.headers, timeout=60
    )
    if response.status_code >= 400:
        raise NewslabError(
            f"{where}: Label Studio rejects the generated labeling config: {response.text[:500]}"
        )


def _aliases(config: str) -> set[str]:
    return {c.get("alias") or c.get("value") or "" for c in ET.fromstring(config).iter("Choice")}


def labels_in_use(conn: Connection, project_id: int, labels: set[str]) -> list[tuple[int, str, str]]:
    """(task id, article id, label) for every annotation, draft or prediction that uses one of ``labels``."""
    client = conn.client()
    hits = []
    tasks = with_retries(
        lambda: list(client.tasks.list(project=project_id, page_size=1000, fields="all")), "listing tasks"
    )
    for task in tasks:
        data = task.data or {}
        groups = [*(task.annotations or []), *(task.drafts or []), *(task.predictions or [])]
        for item in groups:
            result = item.get("result") if isinstance(item, dict) else getattr(item, "result", None)
            for region in result or []:
                for choice in (region.get("value") or {}).get("choices", []):
                    if choice in labels:
                        hits.append((task.id, str(data.get("article_id", "")), choice))
    return hits


def _ensure(
    conn: Connection, task: str, title: str, config: str, annotator: str | None, guide: str | None
) -> SetupResult:
    client = conn.client()
    existing = [
        p
        for p in with_retries(lambda: list(client.projects.list(page_size=1000)), "listing projects")
        if p.title == title
    ]
    if not existing:
        created = with_retries(
            lambda: client.projects.create(
                title=title,
                label_config=config,
                description=f"newslab: {task}",
                expert_instruction=guide or "",
                show_instruction=bool(guide),
                maximum_annotations=1,
            ),
            f"creating project {title!r}",
        )
        return SetupResult(ProjectRef(task, created.id, title, annotator), "created")
    project = with_retries(lambda: client.projects.get(id=existing[0].id), f"reading project {title!r}")
    ref = ProjectRef(task, project.id, title, annotator)
    if project.label_config == config and (project.expert_instruction or "") == (guide or ""):
        return SetupResult(ref, "unchanged")
    removed = _aliases(project.label_config) - _aliases(config)
    if removed:
        used = labels_in_use(conn, project.id, removed)
        if used:
            listing = "; ".join(f"task {t} (article {a}): {label}" for t, a, label in used[:20])
            more = f" and {len(used) - 20} more" if len(used) > 20 else ""
            raise NewslabError(
                f"project {title!r}: the schema removes label(s) {', '.join(sorted(removed))} that "
                f"{len(used)} annotation(s) still use: {listing}{more}.",
                "Relabel or delete those annotations in Label Studio first, or keep the label in the schema.",
            )
    with_retries(
        lambda: client.projects.update(
            id=project.id, label_config=config, expert_instruction=guide or "", show_instruction=bool(guide)
        ),
        f"updating project {title!r}",
    )
    return SetupResult(ref, "updated")


def review_project(
    conn: Connection, schema: Schema, task: str, settings: Settings | None = None
) -> ProjectRef:
    """The task's review project (created when missing, its layout updated), with the adjudicator's
    labeling config."""
    config = label_config(schema, task, instructions=None, review=True)
    validate_config(conn, config, f"schema task {task!r}")
    guide = instructions(schema, task)
    return _ensure(conn, task, title_of(task, REVIEW, settings), config, REVIEW, guide).project


def setup(
    conn: Connection, schema: Schema, annotators: list[str] | None = None, settings: Settings | None = None
) -> list[SetupResult]:
    """Create or update one project per annotated task (and one per annotator when given)."""
    settings = settings or get_settings()
    results = []
    for task, spec in schema.tasks.items():
        if not spec.annotate:
            continue
        config = label_config(schema, task, instructions=None)
        validate_config(conn, config, f"schema task {task!r}")
        if REVIEW in (annotators or []):
            raise NewslabError(f"{REVIEW!r} is the review project's name; it cannot be an annotator's.")
        guide = instructions(schema, task)
        for annotator in [None, *(annotators or [])]:
            title = title_of(task, annotator, settings)
            results.append(_ensure(conn, task, title, config, annotator, guide))
    return results
