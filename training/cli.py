"""`newslab train`: train experiments defined by config files."""

from __future__ import annotations

import typer

from newslab.cligroup import DefaultCommandGroup
from newslab.console import console, err_console

app = typer.Typer(
    cls=DefaultCommandGroup,
    no_args_is_help=True,
    help="Train experiments defined by config files: `newslab train CONFIG...`.",
)


@app.command("run")
def run_cmd(
    configs: list[str] = typer.Argument(
        ..., help="Experiment configs: names under configs/experiments or paths."
    ),
    dataset: str = typer.Option(
        None, help="Use this built dataset instead of the config's (e.g. a slice fnc1_n500)."
    ),
    evaluate: bool = typer.Option(True, help="Compute and log the test metrics after training."),
) -> None:
    """Train each experiment and log it to MLflow (the default command of `newslab train`)."""
    from eval.evaluate import evaluate_run
    from training.train import train

    for config in configs:
        with err_console.status(f"training {config}"):
            result = train(config, dataset=dataset)
            metrics = evaluate_run(result.run_id) if evaluate else {}
        shown = ", ".join(
            f"{k} {metrics[k]:.4f}" for k in ("macro_f1", "accuracy", "fnc_score") if k in metrics
        )
        console.print(f"{result.name}: run {result.run_id} in experiment {result.experiment}; {shown}")
