"""The label schema: tasks and their labels, loaded from YAML into typed objects.

Every stage reads labels from here: the Label Studio config, the dataset features,
the models' label sets and the reports. Nothing else in newslab spells a label.
"""

from __future__ import annotations

import hashlib
import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, model_validator

from core.errors import NewslabError
from core.settings import PROJECT_DIR
from core.yamlio import load_model

CODE_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"

#: Names a task may not take: the keys of a Label Studio task's data (annotation/push.py, review.py) and the
#: names of the labeling config's other tags (annotation/label_config.py). A task's name is its
#: Choices control's name, which Label Studio refuses when it clashes with one of these.
RESERVED_TASK_NAMES = frozenset(
    {
        "article_id",
        "text_hash",
        "title",
        "text",
        "lang",
        "source",
        "url",
        "target",
        "target_name",
        "mentions",
        "agreement",
        "votes",
        "suggestion",
        "reason",
        "comment",  # the comment box of every task
        "al_score",  # active learning's fields (newslab annotate next)
        "al_round",
        "al_strategy",
        "guidelines",
        "id",  # a Label Studio task's own key beside its data
    }
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Strict):
    code: str = Field(pattern=CODE_PATTERN)
    name: str
    definition: str = Field(min_length=1)
    hotkey: str | None = Field(default=None, max_length=1)
    group: str | None = None
    #: False for the label(s) that mean "not about the target" (the FNC score's unrelated)
    related: bool = True
    #: True for the opposed pair whose mean F1 is F_avg (favor, against)
    polar: bool = False


class Task(_Strict):
    kind: Literal["single_label", "multi_label"]
    description: str = ""
    annotate: bool = True
    needs_target: bool = False
    ontology: str | None = None
    group_task: str | None = None
    derived_from: str | None = None
    #: Markdown shown to annotators in the task's projects; overrides the schema's ``guidelines``
    guidelines: str | None = None
    labels: tuple[Label, ...] = Field(min_length=2)

    @model_validator(mode="after")
    def _unique(self) -> Task:
        for attr in ("code", "name", "hotkey"):
            seen: set[str] = set()
            for label in self.labels:
                value = getattr(label, attr)
                if value is None:
                    continue
                if value in seen:
                    raise ValueError(f"duplicate label {attr} {value!r}")
                seen.add(value)
        return self

    @property
    def codes(self) -> list[str]:
        return [label.code for label in self.labels]

    @property
    def multi_label(self) -> bool:
        return self.kind == "multi_label"

    def label(self, code: str) -> Label:
        for label in self.labels:
            if label.code == code:
                return label
        raise KeyError(code)


class Target(_Strict):
    code: str = Field(pattern=CODE_PATTERN)
    name: str
    aliases: dict[str, tuple[str, ...]] = Field(default_factory=dict)


class Schema(_Strict):
    version: int = Field(ge=1)
    #: Markdown shown to annotators of every task that has no ``guidelines`` of its own
    guidelines: str | None = None
    tasks: dict[str, Task] = Field(min_length=1)
    targets: tuple[Target, ...] = ()
    #: the folder relative ``guidelines`` paths are looked up in first (the schema file's)
    _base_dir: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _references(self) -> Schema:
        for name, task in self.tasks.items():
            if not re.match(CODE_PATTERN, name):
                raise ValueError(f"task name {name!r} must match {CODE_PATTERN}")
            if name in RESERVED_TASK_NAMES:
                raise ValueError(
                    f"tasks.{name}: {name!r} is a name Label Studio tasks already use; reserved: "
                    f"{', '.join(sorted(RESERVED_TASK_NAMES))}"
                )
            if task.needs_target and not self.targets:
                raise ValueError(
                    f"tasks.{name}.needs_target: the task is annotated toward targets, but the schema "
                    "defines no `targets`; push would add no task"
                )
            for ref in ("group_task", "derived_from"):
                other = getattr(task, ref)
                if other is not None and other not in self.tasks:
                    raise ValueError(f"tasks.{name}.{ref}: unknown task {other!r}")
            if task.group_task:
                group_codes = set(self.tasks[task.group_task].codes)
                for i, label in enumerate(task.labels):
                    if label.group not in group_codes:
                        raise ValueError(
                            f"tasks.{name}.labels.{i}.group: {label.group!r} is not a label "
                            f"of task {task.group_task!r}"
                        )
        codes = [t.code for t in self.targets]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"duplicate target codes: {', '.join(dupes)}")
        return self

    @model_validator(mode="after")
    def _guidelines_exist(self, info: ValidationInfo) -> Schema:
        base = (info.context or {}).get("base_dir")
        self._base_dir = Path(base) if base else None
        refs = [("guidelines", self.guidelines)]
        refs += [(f"tasks.{name}.guidelines", task.guidelines) for name, task in self.tasks.items()]
        for key, ref in refs:
            if ref is not None and self._resolve(ref) is None:
                tried = " or ".join(str(p) for p in self._candidates(ref))
                raise ValueError(f"{key}: guidelines file {ref!r} not found (looked for {tried})")
        return self

    def _candidates(self, ref: str) -> list[Path]:
        path = Path(ref)
        if path.is_absolute():
            return [path]
        return [base / path for base in (self._base_dir, PROJECT_DIR) if base is not None]

    def _resolve(self, ref: str) -> Path | None:
        return next((p for p in self._candidates(ref) if p.is_file()), None)

    def guidelines_path(self, task_name: str) -> Path | None:
        """The task's guidelines file (its own, else the schema's), or None when the schema sets none."""
        ref = self.task(task_name).guidelines or self.guidelines
        return self._resolve(ref) if ref else None

    def task(self, name: str) -> Task:
        try:
            return self.tasks[name]
        except KeyError:
            known = ", ".join(sorted(self.tasks))
            raise NewslabError(f"unknown task {name!r}; the schema defines: {known}.") from None

    @cached_property
    def fingerprint(self) -> str:
        """A short content hash, logged with every model trained on this schema.

        The guidelines are left out: they tell annotators how to choose, they are not part of
        the label set, so pointing at another file does not change any dataset's fingerprint.
        """
        exclude = {"guidelines": True, "tasks": {"__all__": {"guidelines"}}}
        return hashlib.sha256(self.model_dump_json(exclude=exclude).encode()).hexdigest()[:12]

    def validate_labels(self, task_name: str, labels: list[str], where: str) -> None:
        """Refuse labels the task does not define, naming ``where`` they came from."""
        codes = set(self.task(task_name).codes)
        unknown = [label for label in labels if label not in codes]
        if unknown:
            raise NewslabError(
                f"{where}: unknown {task_name} label(s) {', '.join(map(repr, unknown))}; "
                f"the schema allows {', '.join(sorted(codes))}.",
                "Map the label in the dataset config or add it to the schema.",
            )


DEFAULT_SCHEMA_PATH = Path(__file__).with_name("labels.yaml")


def load_schema(path: Path | str | None = None) -> Schema:
    """Load and validate a schema file (the packaged default when ``path`` is None)."""
    path = Path(path) if path else DEFAULT_SCHEMA_PATH
    return load_model(path, Schema, context={"base_dir": path.resolve().parent})
