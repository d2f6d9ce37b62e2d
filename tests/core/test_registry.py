"""The one registry mechanism: discovery of a package's modules, clear errors, scoped additions."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core.errors import NewslabError
from core.registry import Registry


def test_modules_register_themselves_on_first_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "plugins_for_test"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from core.registry import Registry\nREGISTRY = Registry('widget', __name__, 'Add a module.')\n"
    )
    (package / "round.py").write_text(
        "from plugins_for_test import REGISTRY\nREGISTRY.add('round', 1, __name__)\n"
    )
    (package / "_private.py").write_text("raise RuntimeError('helpers starting with _ are not imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        registry = __import__("plugins_for_test").REGISTRY
        assert registry.all() == {"round": 1} and "round" in registry
        with pytest.raises(NewslabError, match=r"unknown widget 'square'; known: round\.") as info:
            registry.get("square")
        assert info.value.hint == "Add a module."
    finally:
        for name in [m for m in sys.modules if m.startswith("plugins_for_test")]:
            del sys.modules[name]


def test_a_name_from_two_modules_is_refused_and_scoped_additions_vanish() -> None:
    registry: Registry[int] = Registry("widget", "core.metrics")
    registry.add("one", 1, "a")
    registry.add("one", 1, "a")  # the same module again (a re-import) is fine
    with pytest.raises(ValueError, match=r"widget 'one' registered twice \(a and b\)"):
        registry.add("one", 2, "b")
    with registry.scoped():
        registry.add("two", 2, "a")
        assert "two" in registry
    assert "two" not in registry and registry.get("one") == 1
