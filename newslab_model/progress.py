"""Progress of long training steps, for the modules a logged model carries (``training/``).

A logged model imports them when it predicts, possibly where newslab's ``core`` is not
installed: there the steps stay quiet instead of failing to import.
"""

from __future__ import annotations

try:  # long steps report to newslab's progress hook; a logged model predicting elsewhere stays quiet
    from core.progress import step
except ImportError:  # pragma: no cover - core is not shipped with a logged model
    from contextlib import nullcontext

    def step(description: str, total: int | None = None):  # type: ignore[no-untyped-def,misc]
        return nullcontext(lambda n=1: None)
