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
#: the innermost block's message once an interrupt has unwound it (the CLI reports after that)
_unwound: list[str] = []


@contextmanager
def leaves(message: str) -> Iterator[None]:
    """While the block runs, an interrupt is reported with ``message`` (what is kept, how to resume)."""
    _stack.append(message)
    try:
        yield
    except KeyboardInterrupt:
        if not _unwound:  # the innermost block sees it first
            _unwound.append(message)
        raise
    finally:
        _stack.pop()


def message() -> str:
    """What the CLI says on Ctrl-C: the innermost ``leaves`` block's message, read inside the
    block or after the interrupt unwound it."""
    current = _stack[-1] if _stack else (_unwound[0] if _unwound else None)
    return f"interrupted; {current}" if current else NOTHING_WRITTEN
