"""Importers of external labelled sets, one module each, registered by name.

Each importer yields ``LabeledItem``s with the source's raw labels; the builder
maps them onto the schema with the dataset config's ``label_map``. Adding one is
adding a module to this package whose reader is decorated with
``@register("name")``: every module here is imported on first use
(``core.registry``), so nothing else has to list it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from core.registry import Registry
from dataset.config import DatasetConfig
from dataset.records import LabeledItem

#: (the asset's folder, or the project folder for a dataset without an asset; the config) -> items
Importer = Callable[[Path, DatasetConfig], Iterable[LabeledItem]]

REGISTRY: Registry[Importer] = Registry(
    "importer", __name__, "Name one of them in the dataset config, or add a module to dataset/importers/."
)


def register(name: str) -> Callable[[Importer], Importer]:
    """Register ``read`` as the importer a dataset config names with ``importer: name``."""

    def decorate(read: Importer) -> Importer:
        return REGISTRY.add(name, read, read.__module__)

    return decorate


def registry() -> dict[str, Importer]:
    """Every registered importer, by name."""
    return REGISTRY.all()


def get_importer(name: str) -> Importer:
    return REGISTRY.get(name)
