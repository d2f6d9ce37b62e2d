from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from annotation.label_config import COMMENT, label_config
from annotation.projects import instructions
from annotation.push import ArticleRow, make_tasks
from core.errors import NewslabError
from core.schema import RESERVED_TASK_NAMES, Schema, load_schema

SCHEMA = load_schema()


@pytest.mark.parametrize("task", ["stance", "event_type"])
def test_choices_carry_schema_codes_as_aliases(task: str) -> None:
    root = ET.fromstring(label_config(SCHEMA, task, instructions="Read the <b>whole</b> article & decide."))
    [choices] = root.iter("Choices")
    assert choices.get("name") == task
    assert [c.get("alias") for c in choices.iter("Choice")] == SCHEMA.task(task).codes
    assert all(c.get("hint") for c in choices.iter("Choice"))
    hotkeys = [c.get("hotkey") for c in choices.iter("Choice")]
    assert len(set(hotkeys)) == len(hotkeys)
    expected = "multiple" if SCHEMA.task(task).multi_label else "single-radio"
    assert choices.get("choice") == expected


def test_stance_config_shows_the_target() -> None:
    """The question names the target by its display name (``target_name``), not its code."""
    headers = [h.get("value") for h in ET.fromstring(label_config(SCHEMA, "stance")).iter("Header")]
    assert "Stance of this article toward $target_name" in headers
    assert "$target" not in label_config(SCHEMA, "event_type")


def _columns(root: ET.Element) -> tuple[ET.Element, ET.Element]:
    """The article's column and the side column of the layout's two-column row."""
    [row] = [v for v in root.iter("View") if "display: flex" in (v.get("style") or "")]
    article, side = list(row)
    return article, side


@pytest.mark.parametrize("review", [False, True])
@pytest.mark.parametrize("task", ["stance", "event_type"])
def test_the_decision_stays_beside_the_article(task: str, review: bool) -> None:
    """The article scrolls in its own pane; the question, choices and comment box stay beside it."""
    article, side = _columns(ET.fromstring(label_config(SCHEMA, task, instructions="x", review=review)))
    assert [t.get("name") for t in article.iter("Text")] == ["text"]
    assert "overflow-y: auto" in (article.get("style") or "")
    assert [c.get("name") for c in side.iter("Choices")] == [task]
    [comment] = side.iter("TextArea")
    assert comment.get("name") == COMMENT and comment.get("toName") == "text"
    shown = [t.get("name") for t in side.iter("Text")]
    assert shown == (["votes", "suggestion"] if review else [])
    assert not [c for c in side.iter("Choice") if c.get("selected")]  # nothing pre-ticked


def test_event_types_are_grouped_by_quad() -> None:
    [choices] = ET.fromstring(label_config(SCHEMA, "event_type")).iter("Choices")
    quads = {label.code: label.name for label in SCHEMA.task("event_quad").labels}
    groups = [v for v in choices.iter("View") if v.find("Header") is not None]
    assert [g.find("Header").get("value") for g in groups] == [  # type: ignore[union-attr]
        quads[q]
        for q in ("verbal_cooperation", "material_cooperation", "verbal_conflict", "material_conflict")
    ]
    for group in groups:
        codes = {c.get("alias") for c in group.iter("Choice")}
        assert {SCHEMA.task("event_type").label(c).group for c in codes} == {  # type: ignore[arg-type]
            next(k for k, v in quads.items() if v == group.find("Header").get("value"))  # type: ignore[union-attr]
        }
    # ungrouped labels (stance) are one plain list
    [stance] = ET.fromstring(label_config(SCHEMA, "stance")).iter("Choices")
    assert [c.tag for c in stance] == ["Choice"] * 4


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
    assert names <= RESERVED_TASK_NAMES and COMMENT in RESERVED_TASK_NAMES
    review = ET.fromstring(label_config(SCHEMA, "stance", review=True))
    assert {
        el.get("name") for el in review.iter() if el.get("name") and el.tag != "Choices"
    } <= RESERVED_TASK_NAMES
