"""The `newslab` command: one group per stage, and `newslab run`, the main job."""

from __future__ import annotations

import errno
import os
import signal
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import typer
from rich.markup import escape

from core import interrupts
from core.console import console, err_console
from core.errors import NewslabError
from core.redact import redact
from core.schema import load_schema
from core.settings import get_settings
from newslab.cli.annotate import app as annotate_app
from newslab.cli.assets import app as assets_app
from newslab.cli.corpus import app as corpus_app
from newslab.cli.dataset import app as dataset_app
from newslab.cli.eval import app as eval_app
from newslab.cli.predict import predict_cmd
from newslab.cli.team import app as team_app
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
app.add_typer(team_app, name="team")
app.command("predict")(predict_cmd)


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
    console.print(f"Runs are in MLflow ({redact(uri)}). Browse them with `make ui`.", markup=False)
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


#: errors of the machine rather than of newslab: one line naming the path, not a traceback
_ENVIRONMENT_ERRNOS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
}


def _fail(message: str, hint: str | None = None, code: int = 1) -> None:
    err_console.print(f"[bold red]error:[/] {escape(redact(message))}", markup=True)
    if hint:
        err_console.print(redact(hint), markup=False)
    sys.exit(code)


def _interrupted() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while cleaning up is not a traceback
    err_console.print(interrupts.message(), markup=False)
    sys.exit(130)


def main(args: list[str] | None = None) -> None:
    """Entry point: user errors, interrupts and a full disk end with one line and an exit code.

    1: a NewslabError (bad input, a server down), a usage error or an environment error
    (disk full, permission denied: the path is named); 130: Ctrl-C, after saying what was kept.
    Every message goes through ``redact``, so no password in a URI reaches the terminal.
    """
    try:
        app(args=args)
    except NewslabError as exc:
        _fail(exc.message, exc.hint)
    except KeyboardInterrupt:  # outside a command (Typer turns one inside into exit 130)
        _interrupted()
    except SystemExit as exc:
        if exc.code == 130:
            _interrupted()
        raise
    except OSError as exc:
        if exc.errno not in _ENVIRONMENT_ERRNOS:
            raise
        where = f": {exc.filename}" if exc.filename else ""
        _fail(
            f"{_ENVIRONMENT_ERRNOS[exc.errno]}{where}.",
            "Nothing was half-written; free space (or fix the permissions) and run again.",
        )
    finally:
        if args is None:  # the command line's own process: its work is done or reported, so a
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # late Ctrl-C must not kill its exit


if __name__ == "__main__":
    main()
