"""The Rich console and progress bars shared by every command."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from core.progress import Event


def _console(stderr: bool = False) -> Console:
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = max(console.width, 120)  # logs and pipes: do not squeeze tables into 80 columns
    return console


console = _console()
err_console = _console(stderr=True)


@contextmanager
def progress() -> Iterator[Progress]:
    """A progress display for long work; quiet when output is not a terminal."""
    bar = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
    with bar:
        yield bar


class _TerminalSink:
    """``core.progress`` steps as rich bars on stderr (elapsed, and an estimate where a total is
    known); shown inside a status spinner or another bar when one is live (rich nests them)."""

    def __init__(self) -> None:
        self._bar: Progress | None = None
        self._tasks: dict[str, list[TaskID]] = {}

    def __call__(self, event: Event) -> None:
        if event.kind == "start":
            if self._bar is None:
                self._bar = Progress(
                    SpinnerColumn(),
                    TextColumn("[progress.description]{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    TimeRemainingColumn(),
                    console=err_console,
                    transient=True,
                )
                self._bar.start()
            self._tasks.setdefault(event.description, []).append(
                self._bar.add_task(event.description, total=event.total)
            )
            return
        ids = self._tasks.get(event.description)
        if self._bar is None or not ids:
            return
        if event.kind == "advance":
            self._bar.update(ids[-1], completed=event.done)
            return
        self._bar.remove_task(ids.pop())
        if not ids:
            del self._tasks[event.description]
        if not self._tasks:
            self._bar.stop()
            self._bar = None


#: where ``core.progress.step`` reports when stderr is a terminal
terminal_sink = _TerminalSink()
