"""`newslab dataset`: build and inspect Hugging Face datasets."""

from __future__ import annotations

import typer
from rich.table import Table

from core.console import console, err_console
from core.errors import NewslabError
from core.settings import get_settings

app = typer.Typer(
    help="Build Hugging Face datasets whose features come from the label schema.",
    no_args_is_help=True,
)


@app.command("build")
def build_cmd(
    names: list[str] = typer.Argument(..., help="Dataset configs (configs/datasets/NAME.yaml)."),
    limit: int = typer.Option(None, help="At most this many items per split (a seeded sample)."),
    seed: int = typer.Option(0, help="Seed of the sample drawn with --limit."),
    accept_changes: bool = typer.Option(
        False, "--accept-changes", help="Accept local source files that changed since the first build."
    ),
) -> None:
    """Import a dataset, map its labels onto the schema and save it under data/datasets/."""
    from dataset.build import build  # datasets and spaCy load only for the commands that use them

    for name in names:
        with err_console.status(f"building {name}"):
            built = build(name, limit=limit, seed=seed, accept_changes=accept_changes)
        state = "written" if built.written else "unchanged"
        console.print(f"{built.path}: fingerprint {built.fingerprint} ({state})")
        for config, counts in built.configs.items():
            sizes = ", ".join(f"{k} {v:,}" for k, v in counts.items())
            label = "" if config == "default" else f"{config}: "
            console.print(f"  {label}{sizes}")
        for warning in built.warnings:
            err_console.print(f"[yellow]warning:[/] {warning}")


@app.command("show")
def show_cmd(
    name: str = typer.Argument(..., help="A built dataset (a folder under data/datasets)."),
) -> None:
    """Print a built dataset's splits, features and label distribution."""
    from dataset.build import dataset_path, load

    ds, meta = load(dataset_path(name))
    console.print(f"[bold]{name}[/] task {meta['task']}, fingerprint {meta['fingerprint']}")
    console.print(ds)
    table = Table("split", "label", "count")
    for split, counts in meta["label_distribution"].items():
        for label, count in sorted(counts.items(), key=lambda kv: -kv[1]):
            table.add_row(split, label, str(count))
    console.print(table)


@app.command("list")
def list_cmd() -> None:
    """List the built datasets."""
    from dataset.build import read_meta

    root = get_settings().datasets_dir
    table = Table("dataset", "task", "splits", "fingerprint")
    for path in sorted(root.glob("*/newslab.json")) if root.exists() else []:
        meta = read_meta(path.parent) or {}
        for config, part in meta.get("configs", {}).items():
            table.add_row(
                f"{path.parent.name}/{config}", part["task"], str(part["counts"]), part["fingerprint"]
            )
        if "configs" not in meta:
            table.add_row(path.parent.name, meta["task"], str(meta["counts"]), meta["fingerprint"])
    console.print(table)


@app.command("verify")
def verify_cmd(
    names: list[str] = typer.Argument(None, help="Built datasets (default: every one under data/datasets)."),
) -> None:
    """Check every file of the current version(s) against its recorded size and sha256 (exit 1: corrupt)."""
    from dataset.versions import verify_datasets

    with err_console.status("checking every file's sha256"):  # whole datasets are read: seconds to minutes
        results = verify_datasets(get_settings().datasets_dir, names or [])
    if not results:
        console.print("no built datasets.")
        return
    table = Table("dataset", "file", "status")
    bad: dict[str, int] = {}
    for name, checks in results.items():
        for check in checks:
            colour = "green" if check.ok else "yellow" if check.status == "not recorded" else "red"
            status = "ok" if check.ok else f"corrupt: {check.status}" if colour == "red" else check.status
            table.add_row(
                name, check.path, f"[{colour}]{status}[/]" + (f" ({check.detail})" if check.detail else "")
            )
            if colour == "red":
                bad[name] = bad.get(name, 0) + 1
    console.print(table)
    if bad:
        raise NewslabError(
            f"{sum(bad.values())} corrupt file(s) in dataset(s) {', '.join(bad)}.",
            "Rebuild them with `newslab dataset build NAME`: a build rewrites a corrupt current version.",
        )
