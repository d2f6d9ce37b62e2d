"""The Label Studio labeling config (XML), generated from the schema.

Each choice shows the label's name, carries its stable code as ``alias`` (so
exports hold codes, not display names), its hotkey and its definition as a hint.

The layout keeps the decision in view: the article scrolls in a pane of its own on the left,
and the question (naming the stance target by its display name), the choices (event types
grouped by their quad) and a comment box stay beside it on the right, so checking what is
ticked never means scrolling the page. The review layout is the same, with every annotator's
labels, the model's suggestion and the agreement above the (empty) choices.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from core.errors import NewslabError
from core.schema import Schema, Task

#: task data fields of a review task, shown read-only beside the empty form
REVIEW_FIELDS = ("votes", "suggestion", "agreement", "reason")
#: the per-task comment box (a TextArea); `pull` puts its text in the table's ``comment`` column
COMMENT = "comment"

#: the two columns: the article pane scrolls on its own, so the side column never leaves the screen
ROW_STYLE = "display: flex; gap: 24px; align-items: flex-start"
ARTICLE_STYLE = "flex: 3; min-width: 0; max-height: 72vh; overflow-y: auto; padding-right: 12px"
SIDE_STYLE = "flex: 2; min-width: 280px; position: sticky; top: 0"
#: the event types' quads as a 2x2 grid: 18 choices in one screen beside the article
GRID_STYLE = "display: grid; grid-template-columns: 1fr 1fr; column-gap: 12px"
GROUP_STYLE = "min-width: 0"
GROUP_HEADER_STYLE = "font-size: 13px; margin: 4px 0 0 0; color: #555"
NOTE_STYLE = "font-size: 12px; line-height: 1.35; font-weight: normal; color: #555; margin: 0 0 4px 0"


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
    if task_name == COMMENT:
        raise NewslabError(f"task {task_name!r}: {COMMENT!r} is the comment box's name in Label Studio.")
    view = ET.Element("View")
    if instructions:
        ET.SubElement(view, "Collapse").append(_panel(instructions))
    row = ET.SubElement(view, "View", style=ROW_STYLE)
    article = ET.SubElement(row, "View", style=ARTICLE_STYLE)
    ET.SubElement(article, "Header", value="$title", size="4")
    ET.SubElement(article, "Text", name="text", value="$text", granularity="word")
    side = ET.SubElement(row, "View", style=SIDE_STYLE)
    if review:
        _review_panel(side)
    question = "Stance of this article toward $target_name" if task.needs_target else "Event types reported"
    ET.SubElement(side, "Header", value=question, size="4")
    ET.SubElement(side, "Header", value=task.description.strip(), size="6", style=NOTE_STYLE)
    _choices(side, schema, task_name, task)
    ET.SubElement(
        side,
        "TextArea",
        name=COMMENT,
        toName="text",
        placeholder="Comment (optional): why, doubts, a case the guidelines miss",
        rows="1",
        maxSubmissions="1",
        editable="true",
    )
    ET.indent(view)
    return ET.tostring(view, encoding="unicode")


def _review_panel(side: ET.Element) -> None:
    """What the adjudicator decides on, read-only: why the item is here, the votes, the suggestion."""
    ET.SubElement(side, "Header", value="Why this is here: $reason (agreement $agreement)", size="5")
    ET.SubElement(side, "Header", value="Annotators' labels", size="6")
    ET.SubElement(side, "Text", name="votes", value="$votes")
    ET.SubElement(side, "Header", value="Model's suggestion", size="6")
    ET.SubElement(side, "Text", name="suggestion", value="$suggestion")
    ET.SubElement(side, "Header", value="Your decision (nothing is pre-ticked)", size="5")


def _choices(parent: ET.Element, schema: Schema, task_name: str, task: Task) -> None:
    """One Choices control; labels with a ``group`` (event types: their quad) are shown under
    the group's name, which Label Studio allows as View/Header inside Choices."""
    choices = ET.SubElement(
        parent,
        "Choices",
        name=task_name,
        toName="text",
        choice="multiple" if task.multi_label else "single-radio",
        showInline="false",
        required="false" if task.multi_label else "true",
    )
    groups: dict[str | None, list] = {}
    for label in task.labels:
        groups.setdefault(label.group, []).append(label)
    names = _group_names(schema, task)
    grouped = len(groups) > 1 and None not in groups
    grid = ET.SubElement(choices, "View", style=GRID_STYLE) if grouped else choices
    for group, labels in groups.items():
        holder = grid
        if grouped:
            holder = ET.SubElement(grid, "View", style=GROUP_STYLE)
            ET.SubElement(holder, "Header", value=names.get(group, group), size="6", style=GROUP_HEADER_STYLE)
        for label in labels:
            attrs = {"value": label.name, "alias": label.code, "hint": label.definition.strip()}
            if label.hotkey:
                attrs["hotkey"] = label.hotkey
            ET.SubElement(holder, "Choice", attrs)


def _group_names(schema: Schema, task: Task) -> dict[str, str]:
    """Display names of the label groups: the labels of the task the groups map to (``group_task``)."""
    if task.group_task and task.group_task in schema.tasks:
        return {label.code: label.name for label in schema.task(task.group_task).labels}
    return {}


def _panel(text: str) -> ET.Element:
    panel = ET.Element("Panel", value="Guidelines")
    ET.SubElement(panel, "Text", name="guidelines", value=text)
    return panel
