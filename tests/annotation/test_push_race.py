"""Two `annotate push` at once against a real Label Studio (issue 16): one set of tasks, the other refused."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from annotation.projects import find_projects, setup
from annotation.push import ArticleRow, find_duplicates, list_tasks, make_tasks, push
from core.schema import load_schema

pytestmark = [pytest.mark.server, pytest.mark.slow]
SCHEMA = load_schema()

PUSH = """
import pathlib, sys, time
from annotation import push as p
from annotation.client import connect
from annotation.projects import ProjectRef
from core.schema import load_schema
listed = p.list_tasks
def slow(*args, **kwargs):  # the window in which an unlocked second push sees no tasks either
    found = listed(*args, **kwargs)
    time.sleep(4)
    return found
p.list_tasks = slow
row = lambda i: p.ArticleRow(f"art{i:05d}", f"T{i}", f"Body {i}.", "en", "t", f"https://e.org/{i}")
articles = [row(i) for i in range(300)]
tasks = p.make_tasks(load_schema(), "event_type", articles)
project = ProjectRef("event_type", int(sys.argv[1]), sys.argv[2])
conn = connect()
go = pathlib.Path(sys.argv[3])
while not go.exists():
    time.sleep(0.02)
try:
    report = p.push(conn, project, tasks)
except Exception as exc:
    print("REFUSED", exc)
    sys.exit(3)
print("ADDED", report.added)
"""


def test_two_pushes_at_once_one_set_of_tasks_the_other_refused(ls, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings, conn = ls
    setup(conn, SCHEMA, settings=settings)
    project = next(
        p for p in find_projects(conn, SCHEMA, settings) if p.task == "event_type" and not p.annotator
    )
    go = tmp_path / "go"
    env = {
        **os.environ,
        "NEWSLAB_DATA_DIR": str(tmp_path / "data"),
        "NEWSLAB_LS_URL": conn.url,
        "LABEL_STUDIO_API_KEY": conn.token,
        "NEWSLAB_LOCK_WAIT": "0",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PUSH, str(project.id), project.title, str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(6)  # both connected and waiting at the barrier
    go.touch()
    outs = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    added = [o for o in outs if o[0] == 0]
    refused = [o for o in outs if o[0] == 3]
    assert len(added) == 1 and len(refused) == 1, outs
    assert "ADDED 300" in added[0][1]
    winner = procs[outs.index(added[0])].pid
    assert f"Label Studio project '{project.title}' at {conn.url} is in use by PID {winner}" in refused[0][1]
    listed = list_tasks(conn, project.id)
    assert len(listed) == 300 and find_duplicates(listed) == []

    # duplicates made some other way (an older newslab, a manual import) are reported by the next push
    extra = [
        {"data": data}
        for data in make_tasks(
            SCHEMA, "event_type", [ArticleRow("art00007", "T7", "Body 7.", "en", "t", "https://e.org/7")]
        )
    ]
    conn.client().projects.import_tasks(id=project.id, request=extra)
    report = push(conn, project, [], settings=settings.model_copy(update={"data_dir": tmp_path / "data"}))
    assert [(d.key, len(d.task_ids), d.why) for d in report.duplicates] == [("art00007", 2, "same key")]
