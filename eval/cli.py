"""`newslab eval`: metrics of logged runs and the results table."""

from __future__ import annotations

import typer

from newslab.cligroup import DefaultCommandGroup
from newslab.console import console

app = typer.Typer(
    cls=DefaultCommandGroup,
    no_args_is_help=True,
    help="Evaluate runs logged in MLflow: `newslab eval RUN...`, `newslab eval results`.",
)


@app.command("run")
def run_cmd(run_ids: list[str] = typer.Argument(..., help="MLflow run ids.")) -> None:
    """Compute each run's test metrics from its logged predictions and log them to the run."""
    from eval.evaluate import evaluate_run
    from eval.results import latest_runs, render, with_published

    for run_id in run_ids:
        evaluate_run(run_id)
    console.print(render(with_published(latest_runs(run_ids))))


@app.command("results")
def results_cmd() -> None:
    """The latest evaluated run of each experiment, beside the published numbers."""
    from eval.results import latest_runs, render, with_published

    rows = latest_runs()
    if not rows:
        console.print("No evaluated runs yet: run `newslab run` or `newslab train CONFIG`.")
        return
    console.print(render(with_published(rows)))
