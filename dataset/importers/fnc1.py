"""FNC-1: headline/body pairs. The headline is the stance target, the body the text.

Item ids keep the row number of the stances file (``fnc1-test-00042``), so
predictions stay aligned with the published systems' submissions.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from core.errors import NewslabError
from dataset.config import DatasetConfig
from dataset.importers import register
from dataset.records import LabeledItem

SPLITS = {"train": "train", "test": "competition_test"}


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) from a CSV, checking the header names ``required`` columns."""
    if not path.is_file():
        raise NewslabError(f"{path}: file not found.", "Run `newslab assets fetch fnc1`.")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise NewslabError(
                f"{path}: line 1: missing column(s) {', '.join(missing)} "
                f"(found {', '.join(reader.fieldnames or [])})."
            )
        for row in reader:
            yield reader.line_num, row


@register("fnc1")
def read(directory: Path, config: DatasetConfig) -> Iterator[LabeledItem]:
    for split, prefix in SPLITS.items():
        bodies_path = directory / f"{prefix}_bodies.csv"
        bodies = {
            row["Body ID"]: row["articleBody"] for _, row in _rows(bodies_path, ("Body ID", "articleBody"))
        }
        stances_path = directory / f"{prefix}_stances.csv"
        for index, (line, row) in enumerate(_rows(stances_path, ("Headline", "Body ID", "Stance"))):
            body_id = row["Body ID"]
            if body_id not in bodies:
                raise NewslabError(
                    f"{stances_path}: line {line}: Body ID {body_id!r} is not in {bodies_path.name}."
                )
            yield LabeledItem(
                id=f"fnc1-{split}-{index:05d}",
                text=bodies[body_id],
                labels=(row["Stance"],),
                split=split,
                article_id=f"fnc1-body-{body_id}",
                target=row["Headline"],
                lang=config.lang,
                source=config.source,
            )
