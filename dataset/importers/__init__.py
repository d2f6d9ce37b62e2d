"""Importers of external labelled sets, one module each, registered by name.

Each importer yields ``LabeledItem``s with the source's raw labels; the builder
maps them onto the schema with the dataset config's ``label_map``. Adding one is
adding a module to this package whose reader is decorated with
``@register("name")``: every module here is imported on first use (as the metric
registry does), so nothing else has to list it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from core.errors import NewslabError
from dataset.config import DatasetConfig
from dataset.records import LabeledItem

#: (the asset's folder, or the project folder for a dataset without an asset; the config) -> items
Importer = Callable[[Path, DatasetConfig], Iterable[LabeledItem]]

_REGISTRY: dict[str, Importer] = {}


def register(name: str) -> Callable[[Importer], Importer]:
    """Register ``read`` as the importer a dataset config names with ``importer: name``."""

    def decorate(read: Importer) -> Importer:
        if _REGISTRY.get(name, read) is not read:
            raise ValueError(f"importer {name!r} registered twice")
        _REGISTRY[name] = read
        return read

    return decorate


@cache
def _load() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def registry() -> dict[str, Importer]:
    """Every registered importer, by name."""
    _load()
    return dict(_REGISTRY)


def get_importer(name: str) -> Importer:
    importers = registry()
    if name not in importers:
        raise NewslabError(
            f"unknown importer {name!r}; known importers: {', '.join(sorted(importers))}.",
            "Name one of them in the dataset config, or add a module to dataset/importers/.",
        )
    return importers[name]
