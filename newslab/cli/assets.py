"""`newslab assets`: the external data listed in assets.yaml."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from core import assets
from core.console import console, err_console
from core.settings import get_settings

app = typer.Typer(help="External data: fetch it into data/raw and check its checksums.", no_args_is_help=True)


@app.command("fetch")
def fetch_cmd(
    names: list[str] = typer.Argument(None, help="Assets to fetch (default: all)."),
) -> None:
    """Copy assets from the local mirror, or download (and derive) them, verifying each sha256.

    Named assets stop at the first error; with no name, every asset that can be had is fetched
    and the others are listed (exit code 1)."""
    if names:
        results, missing = assets.fetch(names), {}
    else:
        report = assets.fetch_available()
        results, missing = report.results, {**report.unavailable, **report.failed}
    table = Table("asset", "file", "status")
    for r in results:
        table.add_row(r.asset, r.file, r.status)
    console.print(table)
    console.print(f"{len(results)} files in {get_settings().raw_dir}")
    for name, why in missing.items():
        err_console.print(f"[red]✗[/] {name}: {escape(why)}")
    if missing:
        raise typer.Exit(1)


@app.command("list")
def list_cmd() -> None:
    """List the assets of the manifest with their licences and where they would come from."""
    settings = get_settings()
    table = Table("asset", "files", "licence", "without the mirror", "description")
    for asset in assets.load_manifest(settings.assets_manifest).assets:
        if asset.derive:
            origin = f"{len(asset.sources)} upstream files, derived ({asset.derive})"
        elif all(f.url for f in asset.files):
            origin = "downloaded"
        else:
            origin = "[yellow]unavailable[/] (no public source)"
        table.add_row(asset.name, str(len(asset.files)), asset.licence, origin, asset.description)
    console.print(table)
    console.print(f"mirror: {settings.mirror_dir or '(none)'}")


@app.command("verify")
def verify_cmd() -> None:
    """Check every fetched file against the manifest's sha256."""
    report = assets.verify()
    table = Table("file", "status")
    for path, status in report.items():
        style = {"ok": "green", "missing": "yellow", "mismatch": "red"}[status]
        table.add_row(path, f"[{style}]{status}[/]")
    console.print(table)
    if any(s == "mismatch" for s in report.values()):
        raise typer.Exit(1)
