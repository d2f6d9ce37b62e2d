"""`newslab team`: PostgreSQL, Label Studio and an MLflow tracking server for a team, in one command."""

from __future__ import annotations

from pathlib import Path

import typer

from core.console import console, err_console
from core.redact import redact

app = typer.Typer(
    help="A team's stack: PostgreSQL, Label Studio and an MLflow tracking server (loopback by default).",
    no_args_is_help=True,
)


def _print_services(services) -> None:  # type: ignore[no-untyped-def]
    for s in services:
        state = "[green]running[/]" if s.running else "[red]not running[/]"
        pid = f" (pid {s.pid})" if s.pid else ""
        log = f", log {s.log}" if s.log else ""
        console.print(f"{s.name:<12} {state} {redact(s.url)}{pid}{log}", highlight=False)


def _print_env(values: dict[str, str]) -> None:
    from newslab.team.stack import masked

    for key, value in masked(values).items():
        console.print(f"  export {key}={value}", markup=False)


@app.command("up")
def up_cmd(
    host: str = typer.Option(
        "127.0.0.1", help="Address to listen on (0.0.0.0: other machines, behind a firewall)."
    ),
    workers: int = typer.Option(2, min=1, help="MLflow server workers."),
    pg_port: int = typer.Option(
        None, help="PostgreSQL's port (default 5432; ignored with NEWSLAB_DATABASE_URL)."
    ),
    ls_port: int = typer.Option(None, help="Label Studio's port (default 8081)."),
    mlflow_port: int = typer.Option(None, help="The MLflow server's port (default 5001)."),
) -> None:
    """Start what is not running yet; print the URLs and the settings other machines set (secrets masked)."""
    from newslab.team import stack

    with err_console.status(
        "starting the team stack (Label Studio's first start migrates its database, ~2 min)"
    ):
        team = stack.up(host=host, workers=workers, pg_port=pg_port, ls_port=ls_port, mlflow_port=mlflow_port)
    _print_services(team.services)
    console.print(
        "\nOn another machine (real values: `newslab team env --out FILE`, a 0600 file):", markup=False
    )
    _print_env(team.env)
    console.print(f"Passwords and the token are kept in {team.secrets_file} (0600).", markup=False)


@app.command("status")
def status_cmd() -> None:
    """Each service: running or not (exit 1 if any is not)."""
    from newslab.team import stack

    services = stack.status()
    _print_services(services)
    if not all(s.running for s in services):
        raise typer.Exit(1)


@app.command("down")
def down_cmd() -> None:
    """Stop the MLflow server, Label Studio and the stack's own PostgreSQL (data is kept)."""
    from newslab.team import stack

    stopped = stack.down()
    console.print("stopped: " + ", ".join(stopped) if stopped else "nothing was running", markup=False)


@app.command("env")
def env_cmd(
    out: Path = typer.Option(None, help="Write the real values here (mode 0600), for the other machine."),
) -> None:
    """The settings another machine sets: masked here; real only in the --out file."""
    from newslab.team import stack

    values = stack.env(out=out)
    _print_env(values)
    if out:
        console.print(f"written to {out} (0600); copy it to the other machine and `source` it.", markup=False)


@app.command("migrate")
def migrate_cmd(
    labelstudio: bool = typer.Option(True, help="Copy the embedded Label Studio's projects and annotations."),
    mlflow: bool = typer.Option(True, help="Copy the embedded MLflow store's runs and registered models."),
) -> None:
    """Copy this machine's embedded setup onto the team stack; counts and label checksums before and after.

    Re-runnable: what the team stack already holds is skipped. The embedded data is only read.
    Exit 1 when a check differs.
    """
    from rich.table import Table

    from core.schema import load_schema
    from core.settings import get_settings
    from newslab.team.migrate import migrate

    settings = get_settings()
    with err_console.status("migrating") as shown:
        done = migrate(
            settings,
            load_schema(settings.schema_path),
            labelstudio=labelstudio,
            mlflow=mlflow,
            on_item=lambda what: shown.update(f"migrating {what}"),
        )
    if done.projects:
        table = Table("project", "tasks", "labels", "checksum", "added now", title="Label Studio")
        for c in done.projects:
            same = "[green]same[/]" if c.ok else "[red]DIFFERENT[/]"
            table.add_row(
                c.title,
                f"{c.before.tasks} -> {c.after.tasks}",
                f"{c.before.records} -> {c.after.records}",
                same,
                str(c.added),
            )
        console.print(table)
        for c in done.projects:
            if c.skipped:
                console.print(
                    f"{c.title}: {len(c.skipped)} task(s) the team server holds with another text: "
                    + ", ".join(c.skipped[:5]),
                    markup=False,
                )
    if done.mlflow is not None:
        m = done.mlflow
        table = Table("", "experiments", "runs", "params", "metric points", "models", "versions", "aliases")
        table.title = "MLflow"
        for side, f in (("embedded", m.source), ("team server", m.destination)):
            table.add_row(
                side,
                *map(
                    str,
                    (
                        f.experiments,
                        f.runs,
                        f.params,
                        f.metric_points,
                        f.logged_models,
                        f.versions,
                        f.aliases,
                    ),
                ),
            )
        console.print(table)
        same = "[green]same[/]" if m.lossless else "[red]DIFFERENT[/]"
        console.print(
            f"MLflow checksum {same}; runs copied now {m.runs_copied}, already there {m.runs_skipped}, "
            f"redone {m.runs_redone}; model versions copied {m.versions_copied}"
        )
    console.print(f"report: {done.report}", markup=False)
    if not done.ok:
        raise typer.Exit(1)
