"""`newslab predict`: apply a trained or registered model to articles, a dataset split or a table."""

from __future__ import annotations

from pathlib import Path

import typer

from core.console import console
from core.settings import get_settings


def predict_cmd(
    model: str = typer.Argument(
        ..., help="A run id, runs:/RUN/model, models:/newslab-TASK-DATASET@champion or models:/NAME/VERSION."
    ),
    out: Path = typer.Option(
        None, help="Output .parquet or .jsonl (default data/predictions/TASK-VERSION.parquet)."
    ),
    ids: Path = typer.Option(None, help="Corpus articles: a file of article ids, one per line."),
    lang: str = typer.Option(None, help="Corpus articles: only this language."),
    source: str = typer.Option(None, help="Corpus articles: only this source (e.g. wikinews)."),
    limit: int = typer.Option(None, min=1, help="Corpus articles: at most this many."),
    dataset: str = typer.Option(None, help="Predict a built dataset's split instead of the corpus."),
    split: str = typer.Option("test", help="The dataset split (with --dataset)."),
    table: Path = typer.Option(
        None, help="Predict a CSV/TSV/JSONL/Parquet table with the model's input columns."
    ),
    batch_size: int = typer.Option(1000, min=1, help="Items read, predicted and written at a time."),
    workers: int = typer.Option(
        None, min=1, help="Processes that predict (default: the usable cores, up to 4, for large inputs)."
    ),
) -> None:
    """Predict labels and per-label probabilities, streamed to a table that names the model."""
    from annotation.push import read_ids
    from training.predict import predict_model

    wanted = read_ids(ids) if ids else None
    settings = get_settings()
    report = predict_model(
        model, out, wanted, lang, source, limit, dataset, split, table, batch_size, settings, workers
    )
    console.print(
        f"{report.items:,} item(s) from {report.articles:,} article(s)/row(s) predicted by {report.version} "
        f"in {report.seconds:.1f} s ({report.items_per_second:,.0f} items/s) -> {report.out}",
        markup=False,
    )
