"""Derive steps: upstream files (a CSV scrape, a WordPress export) to the corpus JSONL newslab uses.

An asset in ``assets.yaml`` may name a ``derive`` step; the fetcher downloads the asset's
upstream ``sources`` and runs the step to make its file, whose sha256 the manifest records, so
a corpus can be rebuilt anywhere from public files. Each step is one module of this package
that passes a ``Derivation`` to ``register`` (``core.registry``: the modules are imported the
first time the registry is read).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.registry import Registry


@dataclass(frozen=True)
class Source:
    """One upstream file: its local copy, and its path in the upstream repository (``source_file``)."""

    path: Path
    origin: str


@dataclass(frozen=True)
class Derivation:
    name: str
    description: str
    #: the sources, in manifest order -> the derived file's bytes
    run: Callable[[Sequence[Source]], bytes]


REGISTRY: Registry[Derivation] = Registry(
    "derive step", __name__, "Add a module to core/derive/ to define one."
)


def register(derivation: Derivation) -> Derivation:
    return REGISTRY.add(derivation.name, derivation, derivation.run.__module__)


def registry() -> dict[str, Derivation]:
    """Every registered derive step, by name."""
    return REGISTRY.all()


def get(name: str) -> Derivation:
    return REGISTRY.get(name)
