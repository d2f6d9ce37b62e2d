"""The ``table:`` section of a dataset config: a plain labelled table brought in without Python.

The files are CSV, TSV, JSONL, Parquet or a folder saved by ``datasets``
(``save_to_disk``); ``columns`` says which column holds each field of a
``LabeledItem``. Kept apart from ``dataset.config`` so the readers and the
importer depend on this small model only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dataset.splits import SPLIT_NAMES

FORMATS = ("csv", "tsv", "jsonl", "parquet", "hf")


class Columns(BaseModel):
    """Field -> the table's column holding it. Only ``text`` and one of ``label``/``labels`` are required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    label: str = ""  #: one label per row
    labels: str = ""  #: several labels per row: a list, or text cut by ``label_separator``
    target: str = ""  #: stance toward what
    title: str = ""
    id: str = ""  #: default: ``<file name>-<row>``
    group: str = ""  #: leakage group: rows of one group share a split (default: rows with the same text)
    lang: str = ""  #: default: the config's ``lang``
    split: str = ""  #: train / validation / test, or a value ``split_values`` maps to one
    author: str = ""
    date: str = ""  #: ISO date; ``splits: {by: time}`` orders by it
    url: str = ""

    @model_validator(mode="after")
    def _one_label_column(self) -> Columns:
        if bool(self.label) == bool(self.labels):
            raise ValueError("give exactly one of `label` (one per row) or `labels` (several per row)")
        return self

    def mapped(self) -> dict[str, str]:
        """Field -> column, for the fields this table maps."""
        return {field: column for field, column in self.model_dump().items() if column}


class TableFile(BaseModel):
    """One file (or saved dataset folder); a plain string in the YAML is its ``path``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: a local path (absolute, ``~/...``, or relative to the project folder), or, when the config
    #: names an ``asset``, the file's name in ``data/raw/<asset>/``
    path: str = Field(min_length=1)
    format: Literal["auto", "csv", "tsv", "jsonl", "parquet", "hf"] = "auto"  #: auto: by the suffix
    split: str = ""  #: every row of this file goes to this split

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: object) -> object:
        return {"path": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _known_split(self) -> TableFile:
        if self.split and self.split not in SPLIT_NAMES:
            raise ValueError(f"split {self.split!r} is not one of {', '.join(SPLIT_NAMES)}")
        return self

    def resolve(self, directory: Path) -> Path:
        """The file's location: ``directory`` is the asset's folder, or the project folder."""
        return directory / Path(self.path).expanduser()


class TableConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    files: tuple[TableFile, ...] = Field(min_length=1)
    columns: Columns
    #: cuts a ``labels`` text value into labels ("AGREE|ASSAULT" with "|"); list values need none
    label_separator: str = ""
    #: multi-label: a row with no label is an item with none (else a missing label is an error)
    allow_empty_labels: bool = False
    #: the split column's values -> train / validation / test (those three are always understood)
    split_values: dict[str, str] = Field(default_factory=dict)
    #: the stance target of every row, for a table without a target column
    target: str = ""

    @model_validator(mode="after")
    def _check(self) -> TableConfig:
        wrong = {value: split for value, split in self.split_values.items() if split not in SPLIT_NAMES}
        if wrong:
            value, split = next(iter(wrong.items()))
            raise ValueError(f"split_values: {value!r} -> {split!r}; splits are {', '.join(SPLIT_NAMES)}")
        if self.columns.split and any(f.split for f in self.files):
            raise ValueError(
                "give the split by a column (columns.split) or by file (files[].split), not both"
            )
        if self.columns.target and self.target:
            raise ValueError("give the target by a column (columns.target) or as `target`, not both")
        return self

    def split_of(self, value: str) -> str | None:
        """The split a split-column value names, or None."""
        value = value.strip()
        return self.split_values.get(value) or (value if value in SPLIT_NAMES else None)

    def paths(self, directory: Path) -> list[Path]:
        return [f.resolve(directory) for f in self.files]
