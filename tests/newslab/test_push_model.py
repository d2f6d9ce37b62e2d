"""`newslab annotate push TASK --model MODEL` against a real Label Studio, with the pilot's models:
predictions with model_version and score on new tasks, a newer version added to tasks already
there without duplicating them, the same version adding nothing, and refusals before any write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotation.projects import find_projects
from core.schema import load_schema
from corpus.ingest import ingest
from corpus.store import Store
from eval.evaluate import CHAMPION, registered_name
from tests.conftest import PilotModels, free_port, run_cli

pytestmark = [pytest.mark.server, pytest.mark.slow]
SCHEMA = load_schema()
TEXTS = [
    "Russia and Iran signed a missile deal in Tehran; the Kremlin praised the accord.",
    "Ukraine asked NATO for air defence after Russian troops shelled Kyiv overnight.",
]


def _env(ls, pilot: PilotModels) -> dict[str, str]:  # type: ignore[no-untyped-def]
    settings, conn = ls
    return {
        "NEWSLAB_DATA_DIR": str(pilot.settings.data_dir),
        "NEWSLAB_LS_URL": conn.url,
        "LABEL_STUDIO_API_KEY": conn.token,
        "NEWSLAB_LS_PROJECT_PREFIX": settings.ls_project_prefix,
    }


def _predictions(conn, project_id: int) -> dict[int, list]:  # type: ignore[no-untyped-def]
    tasks = list(conn.client().tasks.list(project=project_id, fields="all"))
    return {int(t.id): [p.model_dump() for p in t.predictions or []] for t in tasks}


def test_push_with_a_model_pre_annotates_and_a_newer_version_is_added(
    ls, pilot: PilotModels, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings, conn = ls
    env = _env(ls, pilot)
    assert run_cli("annotate", "setup", env=env).returncode == 0
    source = tmp_path / "articles.jsonl"
    source.write_text(
        "".join(json.dumps({"title": f"push-{i}", "text": t}) + "\n" for i, t in enumerate(TEXTS))
    )
    ingest([source], root=pilot.settings.corpus_dir)
    rows = Store(pilot.settings.corpus_dir).table(["id", "title"]).to_pylist()
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(r["id"] for r in rows if r["title"].startswith("push-")) + "\n")
    stance = next(p for p in find_projects(conn, SCHEMA, settings) if p.task == "stance" and not p.annotator)

    first = run_cli("annotate", "push", "stance", "--ids", str(ids), "--model", pilot.stance_run, env=env)
    assert first.returncode == 0, first.stderr
    predictions = _predictions(conn, stance.id)
    assert len(predictions) >= 4  # russia, iran; ukraine, nato, russia
    for found in predictions.values():
        assert [p["model_version"] for p in found] == [pilot.stance_run]
        assert 0 < found[0]["score"] <= 1
        assert found[0]["result"][0]["value"]["choices"][0] in SCHEMA.task("stance").codes

    champion = f"models:/{registered_name('stance', 'pilot')}@{CHAMPION}"
    second = run_cli("annotate", "push", "stance", "--ids", str(ids), "--model", champion, env=env)
    assert second.returncode == 0, second.stderr
    assert "added 0" in second.stdout and f"tasks already there {len(predictions)}" in second.stdout
    again = _predictions(conn, stance.id)
    assert again.keys() == predictions.keys()  # no task twice
    version = f"{registered_name('stance', 'pilot')}/1"
    assert all(
        sorted(p["model_version"] for p in found) == sorted([pilot.stance_run, version])
        for found in again.values()
    )

    third = run_cli("annotate", "push", "stance", "--ids", str(ids), "--model", champion, env=env)
    assert third.returncode == 0 and f"already had this version {len(predictions)}" in third.stdout
    assert sum(map(len, _predictions(conn, stance.id).values())) == 2 * len(predictions)


def test_a_model_for_another_task_or_a_server_that_is_down_writes_nothing(
    ls, pilot: PilotModels, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings, conn = ls
    env = _env(ls, pilot)
    assert run_cli("annotate", "setup", env=env).returncode == 0
    stance = next(p for p in find_projects(conn, SCHEMA, settings) if p.task == "stance" and not p.annotator)
    wrong = run_cli("annotate", "push", "stance", "--limit", "3", "--model", pilot.events_run, env=env)
    assert wrong.returncode == 1 and "predicts 'event_type', not 'stance'" in wrong.stderr
    missing = run_cli("annotate", "push", "stance", "--limit", "3", "--model", "f" * 32, env=env)
    assert missing.returncode == 1 and f"model runs:/{'f' * 32}/model: cannot be read" in missing.stderr
    assert _predictions(conn, stance.id) == {}
    down = {**env, "NEWSLAB_LS_URL": f"http://127.0.0.1:{free_port()}"}
    result = run_cli("annotate", "push", "stance", "--limit", "3", "--model", pilot.stance_run, env=down)
    assert result.returncode == 1 and "not reachable" in result.stderr
