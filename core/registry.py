"""One registry mechanism for every extension axis (metrics, importers, model families, derive steps).

A registry belongs to a package; each module of that package registers what it defines when
imported, and the package's modules are imported the first time the registry is read. So adding
a metric, an importer or a model family is adding a module: nothing else lists them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from core.errors import NewslabError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one ``kind``, discovered in the modules of ``package`` (those whose name
    starts with ``_`` are left out)."""

    def __init__(self, kind: str, package: str, hint: str = "") -> None:
        self.kind = kind
        self.package = package
        self.hint = hint
        self._entries: dict[str, T] = {}
        self._origin: dict[str, str] = {}
        self._loaded = False

    def add(self, name: str, entry: T, origin: str = "") -> T:
        """Register ``entry``; the same name from another module (``origin``) is an error."""
        known = self._origin.get(name)
        if known is not None and known != origin and self._entries[name] is not entry:
            raise ValueError(f"{self.kind} {name!r} registered twice ({known} and {origin})")
        self._entries[name] = entry
        self._origin[name] = origin
        return entry

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        package = importlib.import_module(self.package)
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"{self.package}.{module.name}")

    def all(self) -> dict[str, T]:
        """Every entry, by name (in the order the modules registered them)."""
        self._load()
        return dict(self._entries)

    def names(self) -> list[str]:
        return sorted(self.all())

    def get(self, name: str) -> T:
        entries = self.all()
        if name not in entries:
            raise NewslabError(
                f"unknown {self.kind} {name!r}; known: {', '.join(sorted(entries))}.", self.hint
            )
        return entries[name]

    def __contains__(self, name: str) -> bool:
        return name in self.all()

    @contextmanager
    def scoped(self) -> Iterator[Registry[T]]:
        """Entries added inside the block are gone after it (for tests that register throwaways)."""
        self._load()
        saved = dict(self._entries), dict(self._origin)
        try:
            yield self
        finally:
            self._entries, self._origin = saved
