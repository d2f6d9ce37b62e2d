"""A Typer group that runs a default command when the first argument names no subcommand,
so that ``newslab train CONFIG`` and ``newslab train sweep ...`` can both exist."""

from __future__ import annotations

import click
from typer.core import TyperGroup


class DefaultCommandGroup(TyperGroup):
    default_command = "run"

    def resolve_command(self, ctx: click.Context, args: list[str]):  # type: ignore[override]
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = [self.default_command, *args]
        return super().resolve_command(ctx, args)
