"""What ``newslab predict`` reads, in batches: corpus articles, a built dataset's split, or a
table file. Each batch is a DataFrame with ``id``, ``text`` and, for pair models, ``target``
(plus ``article_id`` and whatever context the source has); nothing holds every text at once.

Corpus articles become items the way ``annotate push`` makes tasks (``annotation.push.make_tasks``):
one per article, or one per article and schema target it mentions for targeted tasks, keyed
``article_id:target``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from annotation.push import ArticleRow, make_tasks, task_key
from core.errors import NewslabError
from core.schema import Schema
from core.settings import Settings, get_settings
from dataset.table_readers import detect_format, read_rows
from dataset.table_readers import text as cell_text

BATCH = 1000
ARTICLE_COLUMNS = ["id", "title", "text", "lang", "source", "url"]


@dataclass(frozen=True)
class Source:
    """The items to predict and, where known up front, how many articles or rows they come from."""

    batches: Iterator[pd.DataFrame]
    total: int | None
    what: str


def _from_tasks(tasks: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "id": [task_key(t) for t in tasks],
            "article_id": [t["article_id"] for t in tasks],
            "text": [t["text"] for t in tasks],
            "lang": [t["lang"] for t in tasks],
            "source": [t["source"] for t in tasks],
        }
    )
    if tasks and "target" in tasks[0]:
        frame.insert(2, "target", [t["target"] for t in tasks])
    return frame


def corpus(
    store,  # type: ignore[no-untyped-def]  # corpus.store.Store
    schema: Schema,
    task: str,
    ids: list[str] | None = None,
    lang: str | None = None,
    source: str | None = None,
    limit: int | None = None,
    batch_size: int = BATCH,
) -> Source:
    """Articles of the corpus store (all, the given ids, one language or source), streamed file by
    file. Unknown ids are refused here, before anything is predicted or written."""
    import pyarrow.parquet as pq

    wanted = set(ids) if ids is not None else None
    if wanted is not None:
        missing = wanted - set(store.column("id").tolist())
        if missing:
            raise NewslabError(
                f"{len(missing)} article id(s) are not in the corpus: {', '.join(sorted(missing)[:10])}.",
                "Ingest them first with `newslab corpus ingest`.",
            )
    total = len(wanted) if wanted is not None else (None if lang or source else len(store))
    if limit:
        total = min(total, limit) if total is not None else limit

    def batches() -> Iterator[pd.DataFrame]:
        left = limit or float("inf")
        for path in store.article_files:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=ARTICLE_COLUMNS):
                rows = batch.to_pylist()
                rows = [
                    r
                    for r in rows
                    if (wanted is None or r["id"] in wanted)
                    and (not lang or r["lang"] == lang)
                    and (not source or r["source"] == source)
                ]
                rows = rows[: int(min(left, len(rows)))]
                left -= len(rows)
                if rows:
                    frame = _from_tasks(make_tasks(schema, task, [ArticleRow(**r) for r in rows]))
                    frame.attrs["articles"] = len(rows)
                    yield frame
                if left <= 0:
                    return

    return Source(batches(), total, "articles")


def dataset_split(name: str, split: str, settings: Settings | None = None, batch_size: int = BATCH) -> Source:
    """One split of a built dataset (memory-mapped Arrow: read a batch at a time)."""
    from dataset.build import dataset_path, load

    ds, _ = load(dataset_path(name, settings or get_settings()))
    if split not in ds:
        raise NewslabError(f"dataset {name!r} has no {split!r} split (has {', '.join(ds)}).")
    part = ds[split]
    wanted = ("id", "article_id", "target", "text", "lang", "source", "author")
    keep = [c for c in wanted if c in part.column_names]

    def batches() -> Iterator[pd.DataFrame]:
        for batch in part.select_columns(keep).iter(batch_size=batch_size):
            frame = pd.DataFrame(batch)
            frame.attrs["articles"] = len(frame)
            yield frame

    return Source(batches(), len(part), f"{name}/{split} items")


def _header(path: Path, kind: str) -> list[str]:
    """A table's column names, read from its head only."""
    try:
        if kind in ("csv", "tsv"):
            with open(path, encoding="utf-8-sig", newline="") as fh:
                return next(csv.reader(fh, delimiter="\t" if kind == "tsv" else ","), [])
        if kind == "jsonl":
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        return list(json.loads(line))
            return []
        if kind == "parquet":
            import pyarrow.parquet as pq

            return list(pq.ParquetFile(path).schema_arrow.names)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise NewslabError(f"{path}: cannot read its header ({exc}).") from None
    raise NewslabError(f"{path}: predict reads CSV, TSV, JSONL or Parquet tables, not {kind}.")


def table(path: Path, inputs: list[str], batch_size: int = BATCH) -> Source:
    """A CSV/TSV/JSONL/Parquet table with the model's input columns (and ``id``, else row numbers)."""
    path = Path(path)
    if not path.exists():
        raise NewslabError(f"{path}: file not found.")
    kind = detect_format(path)
    header = _header(path, kind)
    missing = [c for c in inputs if c not in header]
    if missing:
        raise NewslabError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(header) or 'none'}.",
            f"The model reads {', '.join(inputs)}.",
        )
    columns = {c: c for c in ["id", *inputs, "author"] if c in header}
    if kind == "parquet":
        return Source(_parquet_batches(path, list(columns), batch_size), None, "rows")

    def batches() -> Iterator[pd.DataFrame]:
        rows: list[dict] = []
        for number, row in enumerate(read_rows(path, columns, kind), start=1):
            values = {c: cell_text(v) for c, v in row.values.items()}
            values.setdefault("id", str(number))
            rows.append(values)
            if len(rows) == batch_size:
                yield _table_frame(rows)
                rows = []
        if rows:
            yield _table_frame(rows)

    return Source(batches(), None, "rows")


def _parquet_batches(path: Path, columns: list[str], batch_size: int) -> Iterator[pd.DataFrame]:
    """A Parquet table a record batch at a time, converted column by column (no per-row Python):
    reading must not take the cores the model needs."""
    import pyarrow.parquet as pq

    start = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=columns):
        frame = batch.to_pandas()
        for column in frame.columns:
            frame[column] = frame[column].map(cell_text) if frame[column].dtype != object else frame[column]
            frame[column] = frame[column].fillna("").astype(str)
        if "id" not in frame.columns:
            frame.insert(0, "id", [str(i) for i in range(start + 1, start + len(frame) + 1)])
        start += len(frame)
        frame.attrs["articles"] = len(frame)
        yield frame


def _table_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame.attrs["articles"] = len(frame)
    return frame
