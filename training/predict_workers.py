"""Predicting chunks on several cores, in order, with a bounded number in flight.

Scoring is CPU-bound Python (TF-IDF's vocabulary lookups, spaCy's pipeline) that one
process runs on one core. Worker processes are forked after the model is loaded, so they
share it instead of loading it again, and at most two chunks per worker are in flight, so
memory stays flat however long the input. Results come back in input order. The workers
die with this process and leave Ctrl-C to it (``corpus.workers``).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any

from corpus import workers as pool_of

#: the function workers apply, set in the parent just before they are forked
_WORK: Callable[[Any], Any] | None = None


def _run(chunk: Any) -> Any:
    assert _WORK is not None
    return _WORK(chunk)


def default_workers() -> int:
    """The cores this process may use, at most 4 (beyond that the writer is the limit)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def ordered_map(
    work: Callable[[Any], Any], chunks: Iterable[tuple[Any, Any]], workers: int
) -> Iterator[tuple[Any, Any]]:
    """``(work(chunk), tag)`` for each ``(chunk, tag)``, in order; ``workers`` <= 1 runs here."""
    if workers <= 1:
        for chunk, tag in chunks:
            yield work(chunk), tag
        return
    global _WORK
    _WORK = work
    pending: deque[tuple[Future, Any]] = deque()
    pool = pool_of.start(workers, multiprocessing.get_context("fork"))
    finished = False
    try:
        for chunk, tag in chunks:
            pending.append((pool.submit(_run, chunk), tag))
            if len(pending) >= 2 * workers:
                future, done = pending.popleft()
                yield future.result(), done
        while pending:
            future, done = pending.popleft()
            yield future.result(), done
        finished = True
    finally:
        pool_of.stop(pool, now=not finished)  # after an error or Ctrl-C: no waiting on chunks
        _WORK = None
