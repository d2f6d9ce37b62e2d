from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from annotation.label_config import label_config
from core.errors import NewslabError
from core.schema import load_schema

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
