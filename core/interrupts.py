"""What an interrupted command leaves behind, said in one line.

Every write in newslab is atomic, so a Ctrl-C normally leaves each store as it was; a
command whose work is kept step by step (a push, a sweep) says so by wrapping that step in
:func:`leaves`, and the CLI prints the innermost message when it is interrupted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

NOTHING_WRITTEN = "interrupted; nothing was written (every store is as it was before this command)."

_stack: list[str] = []


@contextmanager
def leaves(message: str) -> Iterator[None]:
    """While the block runs, an interrupt is reported with ``message`` (what is kept, how to resume)."""
    _stack.append(message)
    try:
        yield
    finally:
        _stack.pop()


def message() -> str:
    return f"interrupted; {_stack[-1]}" if _stack else NOTHING_WRITTEN
