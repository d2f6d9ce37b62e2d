"""Worker processes for the ingest's heavy work, that never outlive the ingest.

A killed ``ingest --workers N`` used to leave its workers (hundreds of MB each) waiting
forever on a queue nobody writes. Each worker now asks Linux to SIGTERM it when its
parent dies (``prctl(PR_SET_PDEATHSIG)``), and an ingest that fails or is interrupted
terminates its workers instead of waiting for their batches.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from contextlib import suppress
from multiprocessing.context import BaseContext

PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Worker initializer: SIGTERM on the parent's death; Ctrl-C is left to the parent."""
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start(workers: int, context: BaseContext | None = None) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes (started the ``context``'s way, e.g. forked to share what
    the parent has loaded) that die with this process and leave Ctrl-C to it."""
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_die_with_parent, initargs=(os.getpid(),)
    )


def stop(pool: ProcessPoolExecutor, now: bool = False) -> None:
    """Shut the pool down; ``now`` (after an error or an interrupt) terminates the workers at once."""
    if not now:
        pool.shutdown(wait=True, cancel_futures=True)
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with suppress(Exception):
            process.terminate()
    for process in processes:
        with suppress(Exception):
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
