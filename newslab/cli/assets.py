"""`newslab assets`: the external data listed in assets.yaml."""

from __future__ import annotations

import typer
from rich.table import Table

from core import assets
from core.console import console
from core.settings import get_settings

app = typer.Typer(help="External data: fetch it into data/raw and check its checksums.", no_args_is_help=True)


@app.command("fetch")
def fetch_cmd(
    names: list[str] = typer.Argument(None, help="Assets to fetch (default: all)."),
) -> None:
    """Copy assets from the local mirror (or download them), verifying each sha256."""
    results = assets.fetch(names or None)
    table = Table("asset", "file", "status")
    for r in results:
        table.add_row(r.asset, r.file, r.status)
    console.print(table)
    console.print(f"{len(results)} files in {get_settings().raw_dir}")


@app.command("list")
def list_cmd() -> None:
    """List the assets of the manifest with their licences and where they would come from."""
    settings = get_settings()
    table = Table("asset", "files", "licence", "description")
    for asset in assets.load_manifest(settings.assets_manifest).assets:
        table.add_row(asset.name, str(len(asset.files)), asset.licence, asset.description)
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
