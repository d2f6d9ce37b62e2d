"""`newslab train`: train experiments defined by config files."""

from __future__ import annotations

import typer

from core.console import console, err_console, progress
from newslab.cli.cligroup import DefaultCommandGroup

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
    sweep: bool = typer.Option(
        False, "--sweep", help="Run the config's Optuna sweep (trials as nested runs), then train the best."
    ),
    trials: int = typer.Option(None, min=1, help="With --sweep: this many trials (default: the config's)."),
) -> None:
    """Train each experiment and log it to MLflow (the default command of `newslab train`)."""
    from eval.columns import summary
    from eval.evaluate import evaluate_run
    from training.train import train

    if trials is not None and not sweep:
        raise typer.BadParameter("--trials goes with --sweep.", param_hint="--trials")
    if sweep and not evaluate:
        raise typer.BadParameter("a sweep always evaluates its final model.", param_hint="--no-evaluate")
    if sweep:
        from training.config import load_experiment
        from training.sweep import sweep as run_sweep

        for config in configs:
            spec = load_experiment(config)[0].sweep
            total = trials or (spec.trials if spec else None)
            with progress() as bar:
                job = bar.add_task(f"sweeping {config}", total=total)
                found = run_sweep(
                    config, trials=trials, dataset=dataset, on_trial=lambda j=job: bar.advance(j)
                )
            with err_console.status(f"evaluating {found.final.run_id}"):
                test_metrics = evaluate_run(found.final.run_id)
            best = ", ".join(f"{k}={v}" for k, v in found.best_params.items())
            console.print(
                f"{config}: {found.trials} trial(s) in study {found.study!r}; best cv score "
                f"{found.best_score:.4f} with {best}; final run {found.final.run_id}: "
                + summary(test_metrics)
            )
        return
    for config in configs:
        with err_console.status(f"training {config}"):
            result = train(config, dataset=dataset)
            metrics = evaluate_run(result.run_id) if evaluate else {}
        console.print(
            f"{result.name}: run {result.run_id} in experiment {result.experiment}; {summary(metrics)}"
        )
