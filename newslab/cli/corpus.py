"""`newslab corpus`: ingest articles into the store, inspect it."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from core.console import console, err_console, progress
from core.errors import NewslabError

app = typer.Typer(help="Articles: ingest, deduplicate, inspect.", no_args_is_help=True)


def _fields(pairs: list[str]) -> dict[str, str]:
    from corpus.readers import DEFAULT_FIELDS

    out = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        if not sep or ours not in DEFAULT_FIELDS or not theirs:
            raise NewslabError(
                f"--field {pair!r}: expected OURS=THEIRS with OURS one of {', '.join(DEFAULT_FIELDS)}."
            )
        out[ours] = theirs
    return out


@app.command("ingest")
def ingest_cmd(
    paths: list[Path] = typer.Argument(None, help="Files or folders: .txt, .jsonl, .csv/.tsv, .html."),
    asset: list[str] = typer.Option([], help="Ingest a fetched asset by name (repeatable)."),
    field: list[str] = typer.Option([], help="Map a field to your column, e.g. text=body (repeatable)."),
    source: str = typer.Option("", help="Source name for records that give none."),
    licence: str = typer.Option("", help="Licence for records that give none."),
    fmt: str = typer.Option(None, "--format", help="Force a format: text, jsonl, csv or html."),
    max_chars: int = typer.Option(
        1_000_000, "--max-chars", min=1, help="Reject articles longer than this many characters."
    ),
    strict: bool = typer.Option(False, help="Fail, adding nothing, if any input is rejected."),
    workers: int = typer.Option(1, min=1, help="Processes for language, sentences and MinHash."),
    max_file_mb: int = typer.Option(512, min=1, help="Reject files larger than this."),
) -> None:
    """Read articles, normalise and deduplicate them, and append them to the corpus store."""
    from corpus.ingest import asset_inputs, check_inputs, corpus_dir, ingest
    from corpus.readers import ReaderOptions

    options = ReaderOptions(  # checks --format and --max-chars before any work
        fields=_fields(field),
        source=source,
        licence=licence,
        format=fmt,
        max_file_bytes=max_file_mb * 2**20,
        max_chars=max_chars,
    )
    check_inputs(list(paths or []))
    files, asset_options = asset_inputs(list(asset)) if asset else ([], {})
    inputs = list(paths or []) + files
    licences = {path: o.licence for path, o in asset_options.items()}
    if not inputs:
        raise NewslabError("nothing to ingest: give PATHS or --asset NAME.")
    per_path = {
        path: ReaderOptions(**{**options.__dict__, "licence": options.licence or licence})
        for path, licence in licences.items()
    }
    with progress() as bar:
        task = bar.add_task("ingesting", total=None)
        report = ingest(
            inputs,
            options,
            strict=strict,
            workers=workers,
            per_path=per_path,
            on_progress=lambda n: bar.advance(task, n),
        )
    console.print(
        f"added {report.added:,}, exact duplicates skipped {report.duplicates:,}, "
        f"rejected {len(report.rejects):,}; "
        f"corpus: {report.total:,} articles, {report.clusters:,} near-duplicate clusters "
        f"({report.articles_in_clusters:,} articles)"
    )
    if report.rejects:
        table = Table("file", "line", "reason", title="Rejected input")
        for r in report.rejects[:20]:
            table.add_row(r.file, str(r.line or ""), r.reason)
        err_console.print(table)
        if len(report.rejects) > 20:
            err_console.print(f"... and {len(report.rejects) - 20} more")
        err_console.print(f"Full list: {corpus_dir() / 'rejects'}")


@app.command("stats")
def stats_cmd(
    png: Path = typer.Option(
        None, help="Where to write the length histogram (default data/corpus/lengths.png)."
    ),
) -> None:
    """Languages, sources, lengths and duplicate clusters of the corpus, and a PNG histogram of lengths."""
    from corpus.ingest import corpus_dir
    from corpus.stats import corpus_stats, length_histogram
    from corpus.store import Store

    store = Store(corpus_dir())
    if not len(store):
        raise NewslabError(f"{store.root}: the corpus is empty.", "Run `newslab corpus ingest` first.")
    stats = corpus_stats(store)
    console.print(f"[bold]{stats.articles:,} articles[/] (content hash {stats.content_hash[:16]})")
    for title, counts in (("language", stats.languages), ("source", stats.sources)):
        table = Table(title, "articles")
        for key, n in counts.items():
            table.add_row(key, f"{n:,}")
        console.print(table)
    console.print("words per article: " + ", ".join(f"{k} {v:,.0f}" for k, v in stats.words.items()))
    console.print(
        f"near-duplicate clusters: {stats.clusters:,} holding {stats.articles_in_clusters:,} articles "
        f"(largest: {stats.largest_cluster})"
    )
    out = length_histogram(store, png or store.root / "lengths.png")
    console.print(f"histogram: {out}")


@app.command("show")
def show_cmd(
    article_id: str = typer.Argument(..., help="An article id."),
    chars: int = typer.Option(800, help="How much of the text to print."),
) -> None:
    """Print one article: metadata, the start of its text, its sentences and its duplicate cluster."""
    from corpus.ingest import corpus_dir
    from corpus.store import Store

    row = Store(corpus_dir()).get(article_id)
    table = Table(show_header=False)
    for key in (
        "id",
        "title",
        "lang",
        "lang_score",
        "source",
        "url",
        "published",
        "licence",
        "attribution",
        "author",
        "word_count",
        "source_file",
        "source_line",
    ):
        table.add_row(key, str(row[key]))
    table.add_row("sentences", str(len(row["sentence_starts"])))
    cluster = row["cluster"]
    table.add_row("cluster", f"{cluster['cluster']} ({cluster['cluster_size']} articles)")
    console.print(table)
    console.print(row["text"][:chars] + ("…" if len(row["text"]) > chars else ""), markup=False)
