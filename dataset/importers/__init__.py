"""Importers of external labelled sets. Each yields ``LabeledItem``s with the source's raw labels;
the builder maps them onto the schema with the dataset config's ``label_map``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from core.errors import NewslabError
from dataset.config import DatasetConfig
from dataset.importers import cameo, conref, fnc1, plover
from dataset.records import LabeledItem

Importer = Callable[[Path, DatasetConfig], Iterable[LabeledItem]]

IMPORTERS: dict[str, Importer] = {
    "fnc1": fnc1.read,
    "cameo_pentacode": cameo.read,
    "plover_gsr": plover.read,
    "conref_stance_ita": conref.read,
}


def get_importer(name: str) -> Importer:
    try:
        return IMPORTERS[name]
    except KeyError:
        raise NewslabError(
            f"unknown importer {name!r}; known importers: {', '.join(sorted(IMPORTERS))}."
        ) from None
