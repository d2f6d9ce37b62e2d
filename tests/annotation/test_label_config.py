from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from annotation.label_config import label_config
from annotation.projects import instructions
from annotation.push import ArticleRow, make_tasks
from core.errors import NewslabError
from core.schema import RESERVED_TASK_NAMES, Schema, load_schema

SCHEMA = load_schema()


@pytest.mark.parametrize("task", ["stance", "event_type"])
def test_choices_carry_schema_codes_as_aliases(task: str) -> None:
    root = ET.fromstring(label_config(SCHEMA, task, instructions="Read the <b>whole</b> article & decide."))
    choices = root.find("Choices")
    assert choices is not None and choices.get("name") == task
    assert [c.get("alias") for c in choices] == SCHEMA.task(task).codes
    assert all(c.get("hint") for c in choices)
    hotkeys = [c.get("hotkey") for c in choices]
    assert len(set(hotkeys)) == len(hotkeys)
    expected = "multiple" if SCHEMA.task(task).multi_label else "single-radio"
    assert choices.get("choice") == expected


def test_stance_config_shows_the_target() -> None:
    assert "$target" in label_config(SCHEMA, "stance")
    assert "$target" not in label_config(SCHEMA, "event_type")


def test_derived_task_has_no_project() -> None:
    with pytest.raises(NewslabError, match="derived"):
        label_config(SCHEMA, "event_quad")


def _schema(tmp_path: Path, guidelines: dict[str, str]) -> Schema:
    """A two-task schema; ``guidelines`` maps ``schema`` or a task name to a guidelines path."""
    label = {"definition": "d"}
    data: dict = {
        "version": 1,
        "tasks": {
            name: {
                "kind": "single_label",
                "labels": [{"code": "a", "name": "A", **label}, {"code": "b", "name": "B", **label}],
            }
            for name in ("sentiment", "topic")
        },
    }
    for where, path in guidelines.items():
        (data if where == "schema" else data["tasks"][where])["guidelines"] = path
    path = tmp_path / "schema" / "labels.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return load_schema(path)


def test_each_project_shows_its_own_tasks_guidelines() -> None:
    stance, events = instructions(SCHEMA, "stance"), instructions(SCHEMA, "event_type")
    assert stance is not None and events is not None
    assert "Stance toward a target" in stance and "ASSAULT" not in stance
    assert "PLOVER" in events and "Decision rules" not in events
    assert instructions(SCHEMA, "event_quad") is None  # derived: no guidelines, no project


def test_guidelines_come_from_the_schema_task_level_first(tmp_path: Path) -> None:
    assert instructions(_schema(tmp_path, {}), "sentiment") is None  # none set: no instructions
    (tmp_path / "schema" / "all.md").parent.mkdir(exist_ok=True)
    (tmp_path / "schema" / "all.md").write_text("# Für alle\n\n<script>x</script> *lesen*\n")
    (tmp_path / "topic.md").write_text("# Nur Thema\n")
    schema = _schema(tmp_path, {"schema": "all.md", "topic": str(tmp_path / "topic.md")})
    shared = instructions(schema, "sentiment")
    assert shared is not None and "<h1>Für alle</h1>" in shared and "<em>lesen</em>" in shared
    assert "<script>" not in shared  # the file's raw HTML is escaped, not passed to Label Studio
    assert instructions(schema, "topic") == "<h1>Nur Thema</h1>\n"
    # a path relative to the project works too (how core/labels.yaml names annotation/guidelines/)
    schema = _schema(tmp_path, {"schema": "annotation/guidelines/stance.md"})
    assert "Stance toward a target" in (instructions(schema, "topic") or "")


def test_a_missing_guidelines_file_names_the_key_and_path(tmp_path: Path) -> None:
    with pytest.raises(NewslabError) as err:
        _schema(tmp_path, {"topic": "nowhere/topic.md"})
    message = err.value.message
    assert str(tmp_path / "schema" / "labels.yaml") in message
    assert "tasks.topic.guidelines" in message and "nowhere/topic.md" in message


def test_task_data_and_config_names_are_reserved_task_names() -> None:
    """A task's Choices control must not clash with the data keys or tags Label Studio gets."""
    articles = [ArticleRow("a1", "t", "Russia and Iran.", "en", "s", "https://x")]
    keys = {
        k for task in ("stance", "event_type") for data in make_tasks(SCHEMA, task, articles) for k in data
    }
    assert keys <= RESERVED_TASK_NAMES
    root = ET.fromstring(label_config(SCHEMA, "stance", instructions="x"))
    names = {el.get("name") for el in root.iter() if el.get("name") and el.tag != "Choices"}
    assert names <= RESERVED_TASK_NAMES
