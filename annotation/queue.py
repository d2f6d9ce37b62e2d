"""What a task's projects already hold: the items pushed, and those somebody has annotated.

Active learning (``newslab annotate next``) must not offer an item that is already queued in any of
the task's projects, and must leave out the near-duplicates of items already labelled; both are
read from Label Studio itself, so a round never depends on a pull being up to date.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from annotation.client import Connection, with_retries
from annotation.projects import ProjectRef
from annotation.push import task_key


@dataclass
class Queued:
    """Task keys across the projects: every one pushed, and those with a submitted annotation."""

    pushed: set[str] = field(default_factory=set)
    annotated: set[str] = field(default_factory=set)
    #: task key -> article id, for the keys above
    articles: dict[str, str] = field(default_factory=dict)


def queued(conn: Connection, projects: list[ProjectRef]) -> Queued:
    """The keys pushed to and annotated in ``projects`` (one paged listing per project)."""
    client = conn.client()
    out = Queued()
    for project in projects:
        tasks = with_retries(
            lambda p=project: list(
                client.tasks.list(
                    project=p.id, page_size=1000, include="id,data,total_annotations,cancelled_annotations"
                )
            ),
            f"listing the tasks of {project.title!r}",
        )
        for task in tasks:
            data = task.data or {}
            if "article_id" not in data:
                continue
            key = task_key(data)
            out.pushed.add(key)
            out.articles[key] = str(data["article_id"])
            done = int(task.total_annotations or 0) - int(task.cancelled_annotations or 0)
            if done > 0:
                out.annotated.add(key)
    return out
