"""One progress hook for the long steps of training (encoding, feature building, fitting).

Estimators call ``step`` wherever they are; where the report goes is a *sink* the caller picks:
the terminal (``core.console``'s, when stderr is one), a test's list, or nowhere. This module
needs only the standard library, so transformers that a logged model imports can call it, and
rich is imported only where a terminal will show the bar.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

#: advance(n): n more units of the step are done
Advance = Callable[[int], None]


@dataclass(frozen=True)
class Event:
    """What a sink is told: a step started, advanced or ended, with its elapsed seconds."""

    kind: Literal["start", "advance", "end"]
    description: str
    done: int
    total: int | None
    elapsed: float

    @property
    def eta(self) -> float | None:
        """Seconds left at the pace so far (None: no total, or nothing done yet)."""
        if not self.total or not self.done:
            return None
        return self.elapsed / self.done * max(self.total - self.done, 0)


Sink = Callable[[Event], None]
_SINKS: list[Sink | None] = []


@contextmanager
def reporting_to(sink: Sink | None) -> Iterator[None]:
    """Send the steps started inside to ``sink`` (None: nowhere), e.g. a test's ``list.append``."""
    _SINKS.append(sink)
    try:
        yield
    finally:
        _SINKS.pop()


def current_sink() -> Sink | None:
    """The sink chosen by ``reporting_to``, else the terminal's when stderr is one, else none."""
    if _SINKS:
        return _SINKS[-1]
    if not sys.stderr.isatty():
        return None  # logs and pipes: quiet, like core.console.progress()
    try:
        from core.console import terminal_sink
    except ImportError:  # rich missing (a model predicting elsewhere): quiet
        return None
    return terminal_sink


def _quiet(n: int = 1) -> None:
    return None


@contextmanager
def step(description: str, total: int | None = None) -> Iterator[Advance]:
    """Report a long step: yields ``advance(n)``; the sink gets start, each advance (with the
    elapsed time, hence an estimate of what is left) and end, even when the step fails."""
    sink = current_sink()
    if sink is None:
        yield _quiet
        return
    started = time.perf_counter()
    done = 0
    sink(Event("start", description, 0, total, 0.0))

    def advance(n: int = 1) -> None:
        nonlocal done
        done += n
        sink(Event("advance", description, done, total, time.perf_counter() - started))

    try:
        yield advance
    finally:
        sink(Event("end", description, done, total, time.perf_counter() - started))
