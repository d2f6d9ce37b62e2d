from __future__ import annotations

import pytest
from typer.testing import CliRunner

from newslab.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["assets"],
        ["corpus"],
        ["annotate"],
        ["dataset"],
        ["train"],
        ["eval"],
        ["run", "--help"],
        ["assets", "fetch", "--help"],
        ["dataset", "build", "--help"],
        ["train", "run", "--help"],
        ["eval", "results", "--help"],
        ["annotate", "config", "--help"],
    ],
)
def test_every_group_and_command_has_help(args: list[str]) -> None:
    result = runner.invoke(app, args if args[-1:] == ["--help"] else [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_train_and_eval_take_their_arguments_directly() -> None:
    """`newslab train CONFIG` runs the default command; subcommands still resolve."""
    import click

    from newslab.cli.cligroup import DefaultCommandGroup

    group = DefaultCommandGroup(
        name="g", commands={"run": click.Command("run"), "sweep": click.Command("sweep")}
    )
    ctx = click.Context(group)
    assert group.resolve_command(ctx, ["fnc1_tfidf_lr"])[0] == "run"
    assert group.resolve_command(ctx, ["sweep", "x"])[0] == "sweep"
