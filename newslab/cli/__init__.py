"""The `newslab` command: one group per stage, and `newslab run`, the main job."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import typer

from core.console import console, err_console
from core.errors import NewslabError
from core.schema import load_schema
from core.settings import get_settings
from newslab.cli.annotate import app as annotate_app
from newslab.cli.assets import app as assets_app
from newslab.cli.corpus import app as corpus_app
from newslab.cli.dataset import app as dataset_app
from newslab.cli.eval import app as eval_app
from newslab.cli.train import app as train_app

app = typer.Typer(
    name="newslab",
    help="News articles to an annotated corpus and benchmarked classifiers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(assets_app, name="assets")
app.add_typer(corpus_app, name="corpus")
app.add_typer(annotate_app, name="annotate")
app.add_typer(dataset_app, name="dataset")
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")


@app.command("run")
def run_cmd(
    config: Path = typer.Option(None, help="The main job's config (default configs/run.yaml)."),
    limit: int = typer.Option(None, help="At most this many items per split: a quick slice."),
    force: bool = typer.Option(
        False, "--force", help="Retrain every experiment, even those with a finished run of the same inputs."
    ),
) -> None:
    """The main job: fetch assets, build datasets, train (what changed), evaluate, print results."""
    from eval.results import render
    from newslab.pipeline import run

    outcome = run(config=config, limit=limit, force=force)
    console.print(render(outcome.results))
    uri = get_settings().resolved_tracking_uri
    console.print(f"Runs are in MLflow ({uri}). Browse them with `make ui`.")
    for line in outcome.notes:  # what could not be had here, and what ran without it
        err_console.print(line, markup=False)
    if outcome.skipped:
        raise typer.Exit(1)


@app.command("schema")
def schema_cmd(
    path: Path = typer.Argument(None, help="A schema file (default: the project's)."),
) -> None:
    """Validate the label schema and print its tasks and labels."""
    schema = load_schema(path or get_settings().schema_path)
    for name, task in schema.tasks.items():
        console.print(
            f"[bold]{name}[/] ({task.kind}{', derived' if not task.annotate else ''}): "
            + ", ".join(task.codes)
        )
    console.print(
        f"{len(schema.targets)} targets; schema version {schema.version}, fingerprint {schema.fingerprint}"
    )


def main() -> None:
    """Entry point: user errors end with a short message and exit code 1, not a traceback."""
    try:
        app()
    except NewslabError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", markup=True)
        if exc.hint:
            err_console.print(exc.hint)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
