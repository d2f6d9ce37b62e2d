"""The Label Studio labeling config (XML), generated from the schema.

Each choice shows the label's name, carries its stable code as ``alias`` (so
exports hold codes, not display names), its hotkey and its definition as a hint.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from core.errors import NewslabError
from core.schema import Schema


#: task data fields of a review task, shown read-only beside the empty form
REVIEW_FIELDS = ("votes", "suggestion", "agreement", "reason")


def label_config(
    schema: Schema, task_name: str, instructions: str | None = None, review: bool = False
) -> str:
    """The task's labeling config; ``review``: the adjudicator's, which shows every annotator's
    labels and the model's suggestion as text beside an empty form (nothing pre-ticked: submitting
    unchanged cannot make one annotator's answer gold)."""
    task = schema.task(task_name)
    if not task.annotate:
        raise NewslabError(
            f"task {task_name!r} is derived ({task.derived_from or 'not annotated'}); "
            "it has no Label Studio project."
        )
    view = ET.Element("View")
    if instructions:
        ET.SubElement(view, "Collapse").append(_panel(instructions))
    if task.needs_target:
        ET.SubElement(view, "Header", value="Target: $target", size="4")
    ET.SubElement(view, "Header", value="$title", size="3")
    ET.SubElement(view, "Text", name="text", value="$text", granularity="word")
    if review:
        ET.SubElement(view, "Header", value="Why this is here: $reason (agreement $agreement)", size="5")
        ET.SubElement(view, "Header", value="Annotators' labels", size="6")
        ET.SubElement(view, "Text", name="votes", value="$votes")
        ET.SubElement(view, "Header", value="Model's suggestion", size="6")
        ET.SubElement(view, "Text", name="suggestion", value="$suggestion")
        ET.SubElement(view, "Header", value="Your decision (nothing is pre-ticked)", size="5")
    ET.SubElement(view, "Header", value=task.description.strip(), size="6")
    choices = ET.SubElement(
        view,
        "Choices",
        name=task_name,
        toName="text",
        choice="multiple" if task.multi_label else "single-radio",
        showInline="false",
        required="false" if task.multi_label else "true",
    )
    for label in task.labels:
        attrs = {"value": label.name, "alias": label.code, "hint": label.definition.strip()}
        if label.hotkey:
            attrs["hotkey"] = label.hotkey
        ET.SubElement(choices, "Choice", attrs)
    ET.indent(view)
    return ET.tostring(view, encoding="unicode")


def _panel(text: str) -> ET.Element:
    panel = ET.Element("Panel", value="Guidelines")
    ET.SubElement(panel, "Text", name="guidelines", value=text)
    return panel
