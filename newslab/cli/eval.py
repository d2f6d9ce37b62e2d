"""`newslab eval`: metrics of logged runs and the results table."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from core.console import console, err_console
from newslab.cli.cligroup import DefaultCommandGroup

app = typer.Typer(
    cls=DefaultCommandGroup,
    no_args_is_help=True,
    help="Evaluate runs logged in MLflow: `newslab eval RUN...` (see the commands below).",
)


@app.command("run")
def run_cmd(run_ids: list[str] = typer.Argument(..., help="MLflow run ids.")) -> None:
    """Compute each run's test metrics from its logged predictions and log them to the run."""
    from eval.evaluate import evaluate_run
    from eval.results import latest_runs, render, with_published

    for run_id in run_ids:
        with err_console.status(f"evaluating {run_id[:8]}: metrics, bootstrap intervals, figures"):
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


@app.command("compare")
def compare_cmd(
    run_a: str = typer.Argument(..., help="MLflow run id of model A."),
    run_b: str = typer.Argument(None, help="MLflow run id of model B (or --published)."),
    published: str = typer.Option(
        None,
        help="Compare with a published system's released predictions instead (e.g. 'Athene (FNC-1 2nd)').",
    ),
    bootstrap: int = typer.Option(1000, min=100, help="Bootstrap resamples of the macro-F1 difference."),
    seed: int = typer.Option(0, help="Seed of the bootstrap."),
) -> None:
    """Paired tests of two runs on the same test items (McNemar, paired bootstrap of macro-F1)."""
    from core.errors import NewslabError
    from eval.compare import compare_runs, compare_with_published

    if (run_b is None) == (published is None):
        raise NewslabError("give RUN_B or --published SYSTEM (one of them).")
    with err_console.status(f"paired tests, {bootstrap} bootstrap resamples"):
        if published:
            c = compare_with_published(run_a, published, n_boot=bootstrap, seed=seed)
        else:
            c = compare_runs(run_a, run_b, n_boot=bootstrap, seed=seed)
    console.print(
        f"A = {c.name_a} ({c.run_a[:8]}): macro-F1 {c.macro_f1_a:.4f}\n"
        f"B = {c.name_b} ({'released predictions' if c.run_b.startswith('published:') else c.run_b[:8]}): "
        f"macro-F1 {c.macro_f1_b:.4f}\n"
        f"{c.n_items:,} shared test items; only A right on {c.a_only_right:,}, "
        f"only B right on {c.b_only_right:,}"
    )
    console.print(f"[bold]{c.verdict}[/]")


@app.command("report")
def report_cmd(
    run_ids: list[str] = typer.Argument(
        None, help="MLflow run ids (default: the latest evaluated run of each experiment and dataset)."
    ),
    out: Path = typer.Option(None, "--out", help="Folder to write into (default data/reports)."),
    log: bool = typer.Option(True, help="Also log the report to MLflow (experiment newslab-reports)."),
) -> None:
    """One static HTML page (and a Markdown version): leaderboard, figures, breakdowns, errors."""
    from eval.report import build_report

    with err_console.status("collecting runs, figures and analyses from MLflow"):
        files = build_report(run_ids or None, out=out, log=log)
    console.print(f"report: {files.html}\nmarkdown: {files.markdown} ({len(files.figures)} figures)")
    if files.run_id:
        console.print(f"logged to MLflow run {files.run_id} (experiment newslab-reports)")


@app.command("curve")
def curve_cmd(
    experiment: str = typer.Argument(
        ..., help="An experiment config (name under configs/experiments, or a path)."
    ),
    sizes: str = typer.Option("0.125,0.25,0.5,1", help="Fractions of the training split, comma-separated."),
    seeds: int = typer.Option(3, min=1, help="Random subsets per size (the full split is trained once)."),
    dataset: str = typer.Option(None, help="Another built dataset than the config's (e.g. a slice)."),
) -> None:
    """Learning curve: the test score against the number of training annotations, logged to MLflow."""
    from core.console import progress
    from core.errors import NewslabError
    from eval.learning_curve import learning_curve, plan

    try:
        fractions = tuple(float(s) for s in sizes.split(",") if s.strip())
    except ValueError:
        raise NewslabError(f"--sizes {sizes!r}: give fractions such as 0.25,0.5,1.") from None
    with progress() as bar:
        job = bar.add_task(f"learning curve of {experiment}", total=len(plan(fractions, seeds)))
        curve = learning_curve(
            experiment, fractions, seeds, dataset=dataset, on_point=lambda _: bar.advance(job)
        )
    table = Table(
        "size",
        "training articles",
        "training items (mean)",
        curve.metric,
        "sd",
        "seeds",
        title=f"{curve.experiment} on {curve.dataset}",
    )
    for _, row in curve.summary().iterrows():
        table.add_row(
            f"{row['fraction']:g}",
            f"{int(row['n_articles']):,}",
            f"{row['n_train']:,.0f}",
            f"{row['mean']:.4f}",
            f"{row['std']:.4f}",
            str(int(row["count"])),
        )
    console.print(table)
    console.print(f"[bold]{curve.verdict()}[/]")
    console.print(f"logged to MLflow run {curve.run_id}")


@app.command("cv")
def cv_cmd(
    experiment: str = typer.Argument(
        ..., help="An experiment config (name under configs/experiments, or a path)."
    ),
    folds: int = typer.Option(5, "--folds", min=2, help="Folds per repeat (grouped, stratified)."),
    repeats: int = typer.Option(1, "--repeats", min=1, help="Fold assignments, seeded seed, seed+1, ..."),
    dataset: str = typer.Option(None, help="Another built dataset than the config's (e.g. a slice)."),
    all_splits: bool = typer.Option(
        False, "--all", help="Cross-validate every split pooled, not only the training split."
    ),
    seed: int = typer.Option(0, help="Seed of the fold assignment (same seed: same folds, comparable runs)."),
    evaluate: bool = typer.Option(True, help="Evaluate the pooled out-of-fold predictions (eval run)."),
) -> None:
    """Cross-validation: one parent run, a nested run per fold, pooled out-of-fold predictions."""
    from eval.columns import summary
    from eval.cv import cross_validate
    from eval.evaluate import evaluate_run

    with err_console.status(f"cross-validating {experiment}: {repeats} x {folds} folds"):
        result = cross_validate(experiment, folds, repeats, dataset, all_splits, seed)
    per_repeat = ", ".join(f"{s:.4f}" for s in result.scores)
    console.print(
        f"{experiment}: CV run {result.run_id} ({len(result.fold_run_ids)} fold runs); "
        f"{result.metric} per repeat {per_repeat}, mean {result.mean:.4f}"
    )
    if evaluate:
        with err_console.status(f"evaluating {result.run_id[:8]}: metrics, bootstrap intervals, figures"):
            scores = evaluate_run(result.run_id)
        console.print(f"repeat 0 out-of-fold: {summary(scores)}")
        import mlflow

        logged = mlflow.MlflowClient().get_run(result.run_id).data.metrics
        low, high = (logged.get(f"test_{result.metric}_ci_{end}") for end in ("low", "high"))
        if low is not None and high is not None:
            console.print(
                f"{result.metric} 95 % bootstrap interval [{low:.4f}, {high:.4f}] (width {high - low:.4f})"
            )
