"""`newslab corpus`: the article store."""

from __future__ import annotations

import typer

app = typer.Typer(help="Articles: ingest, deduplicate, inspect.", no_args_is_help=True)
