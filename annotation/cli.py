"""`newslab annotate`: Label Studio, driven from the schema."""

from __future__ import annotations

import typer

from annotation.label_config import label_config
from newslab.console import console
from newslab.schema import load_schema
from newslab.settings import get_settings

app = typer.Typer(help="Annotation in Label Studio, configured from the label schema.", no_args_is_help=True)


@app.command("config")
def config_cmd(
    task: str = typer.Argument(..., help="An annotated task of the schema, e.g. stance or event_type."),
) -> None:
    """Print the Label Studio labeling config (XML) generated from the schema for TASK."""
    console.print(label_config(load_schema(get_settings().schema_path), task), markup=False)
