"""Apply a logged model to items and write what it predicts, with where each prediction came from.

``predict`` streams: a batch of items is read, predicted and appended to the output (Parquet row
groups or JSONL lines) before the next is read, so memory stays flat however many articles
there are. The output is written beside its final name and renamed at the end: an interrupted
run leaves no partial file. Each row carries the label(s), one ``proba_<code>`` per label, the
``score`` Label Studio sorts by, and the model's URI, run id, version and dataset fingerprint.

``prelabels`` makes the same predictions into Label Studio pre-annotations for ``annotate push``.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from annotation.prelabel import prediction
from annotation.push import task_key
from core import tracking
from core.errors import NewslabError
from core.files import AtomicFile
from core.progress import step
from core.schema import load_schema
from core.settings import Settings, get_settings
from newslab_model.contract import LABEL, PROBA, confidence
from training import predict_sources as sources
from training.loading import LoadedModel, check_serves, load
from training.predict_sources import BATCH, Source
from training.predict_workers import default_workers, ordered_map

SCORE = "score"
PROVENANCE = ("model_uri", "run_id", "model_version", "dataset_fingerprint")
#: item columns kept beside the predictions, where the source has them
CONTEXT = ("id", "article_id", "target", "lang", "source")
FORMATS = {".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
#: model calls are made on chunks of this many items (features of a chunk are held at once)
CHUNK = 2000


@dataclass(frozen=True)
class PredictReport:
    out: Path
    items: int
    articles: int
    seconds: float
    model: str
    version: str

    @property
    def items_per_second(self) -> float:
        return self.items / max(self.seconds, 1e-9)


def output_format(path: Path) -> str:
    found = FORMATS.get(Path(path).suffix.lower())
    if found is None:
        raise NewslabError(f"{path}: write predictions to a .parquet or .jsonl file.")
    return found


def predicted(loaded: LoadedModel, items: pd.DataFrame) -> pd.DataFrame:
    """``items``' context columns, the model's output and its provenance, one row per item."""
    out = loaded.predict(items)
    context = items[[c for c in CONTEXT if c in items.columns]].reset_index(drop=True)
    frame = pd.concat([context, out], axis=1)
    card = loaded.card
    frame[SCORE] = [confidence(row, card) for row in out.to_dict("records")]
    frame["model_uri"] = loaded.uri
    frame["run_id"] = loaded.run_id
    frame["model_version"] = loaded.version
    frame["dataset_fingerprint"] = card.dataset_fingerprint
    return frame


def _arrow_type(column: str):  # type: ignore[no-untyped-def]
    import pyarrow as pa

    return pa.float64() if column == SCORE or column.startswith(PROBA) else pa.string()


class _Writer:
    """Appends batches to a Parquet file (one schema, fixed by the first batch) or JSONL lines."""

    def __init__(self, path: Path, multi_label: bool) -> None:
        self.kind = output_format(path)
        self.atomic = AtomicFile(path)
        self.multi_label = multi_label
        self.parquet = None

    def write(self, frame: pd.DataFrame) -> None:
        if self.kind == "jsonl":
            lines = (json.dumps(r, ensure_ascii=False) for r in frame.to_dict("records"))
            self.atomic.file.write(("\n".join(lines) + "\n").encode("utf-8"))
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.parquet is None:
            label = pa.list_(pa.string()) if self.multi_label else pa.string()
            fields = [pa.field(c, label if c == LABEL else _arrow_type(c)) for c in frame.columns]
            self.schema = pa.schema(fields)
            self.parquet = pq.ParquetWriter(self.atomic.file, self.schema)
        self.parquet.write_table(pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False))

    def commit(self) -> None:
        if self.parquet is not None:
            self.parquet.close()
        self.atomic.commit()

    def discard(self) -> None:
        if self.parquet is not None:
            with contextlib.suppress(Exception):  # its file goes anyway
                self.parquet.close()
        self.atomic.discard()


def _chunks(frame: pd.DataFrame, size: int) -> Iterable[pd.DataFrame]:
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size]


def _tagged_chunks(batches: Iterable[pd.DataFrame]) -> Iterable[tuple[pd.DataFrame, tuple[int, int]]]:
    """Each chunk with (items, articles) it completes: a batch's articles count with its last chunk."""
    for batch in batches:
        chunks = list(_chunks(batch, CHUNK))
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            yield chunk, (len(chunk), int(batch.attrs.get("articles", len(batch))) if last else 0)


def predict(
    loaded: LoadedModel,
    source: Source,
    out: Path,
    workers: int = 1,
) -> PredictReport:
    """Predict every item of ``source`` with ``loaded`` into ``out`` (.parquet or .jsonl), on
    ``workers`` processes."""
    out = Path(out)
    writer = _Writer(out, loaded.card.multi_label)
    items = articles = 0
    started = time.perf_counter()
    try:
        with step(f"predicting {source.what}", total=source.total) as advance:
            work = partial(predicted, loaded)
            for frame, (n_items, n_articles) in ordered_map(work, _tagged_chunks(source.batches), workers):
                writer.write(frame)
                items += n_items
                articles += n_articles
                if n_articles:
                    advance(n_articles)
        if not items:  # an empty table still has the columns
            writer.write(predicted(loaded, pd.DataFrame({c: [] for c in ("id", *loaded.card.inputs)})))
    except BaseException:
        writer.discard()
        raise
    writer.commit()
    return PredictReport(out, items, articles, time.perf_counter() - started, loaded.uri, loaded.version)


def task_inputs(loaded: LoadedModel, rows: list[dict]) -> pd.DataFrame:
    """The model's input columns from Label Studio task data (``text``, ``target``, ...)."""
    card = loaded.card
    columns = card.inputs + [c for c in card.optional_inputs if any(c in r for r in rows)]
    return pd.DataFrame({c: [str(r.get(c) or "") for r in rows] for c in columns})


def as_prelabel(row: dict, loaded: LoadedModel, task: str) -> dict:
    """One row of the model's output as a Label Studio pre-annotation (choices, version, score)."""
    card = loaded.card
    labels = row[LABEL] if card.multi_label else [row[LABEL]]
    return prediction(task, labels, confidence(row, card), loaded.version)


def prelabel_rows(loaded: LoadedModel, rows: list[dict], task: str) -> list[dict]:
    """The model's prediction of each Label Studio task's data, in order, as Label Studio takes it
    (choices, ``model_version``, ``score``): one model call per chunk of tasks."""
    out: list[dict] = []
    for start in range(0, len(rows), CHUNK):
        frame = task_inputs(loaded, rows[start : start + CHUNK])
        out.extend(as_prelabel(row, loaded, task) for row in loaded.predict(frame).to_dict("records"))
    return out


def prelabels(loaded: LoadedModel, tasks: list[dict], task: str) -> dict[str, dict]:
    """Task key -> the model's prediction of that task, as Label Studio pre-annotations."""
    return {task_key(d): p for d, p in zip(tasks, prelabel_rows(loaded, tasks, task), strict=True)}


def default_out(loaded: LoadedModel, settings: Settings) -> Path:
    """``data/predictions/<task>-<model version>.parquet``."""
    version = "".join(c if c.isalnum() or c in "-_." else "-" for c in loaded.version or "model")
    return settings.data_dir / "predictions" / f"{loaded.card.task}-{version}.parquet"


def predict_model(
    model: str,
    out: Path | None = None,
    ids: list[str] | None = None,
    lang: str | None = None,
    source: str | None = None,
    limit: int | None = None,
    dataset: str | None = None,
    split: str = "test",
    table: Path | None = None,
    batch_size: int = BATCH,
    settings: Settings | None = None,
    workers: int | None = None,
) -> PredictReport:
    """``newslab predict``: ``model`` over corpus articles (default; ``ids``, ``lang``, ``source``,
    ``limit`` select), a dataset's ``split``, or a ``table`` file, on ``workers`` processes (default:
    the usable cores, up to 4, for inputs of several batches). The model is loaded and checked
    against the schema, and the input found, before anything is written."""
    from corpus.store import Store

    settings = settings or get_settings()
    if dataset and table:
        raise NewslabError("give --dataset or --table, not both.")
    if out is not None:
        output_format(out)
    tracking.connect(settings)
    loaded = load(model)
    schema = load_schema(settings.schema_path)
    if loaded.card.task in schema.tasks:
        check_serves(loaded, schema, loaded.card.task)
    if table is not None:
        items = sources.table(table, loaded.card.inputs, batch_size)
    elif dataset is not None:
        items = sources.dataset_split(dataset, split, settings, batch_size)
    else:
        if loaded.card.task not in schema.tasks:
            raise NewslabError(
                f"model {loaded.uri} predicts {loaded.card.task!r}, which is not a task of the schema: "
                "corpus articles cannot be made into its items.",
                "Give it a table (--table FILE) or a dataset split (--dataset NAME).",
            )
        store = Store(settings.corpus_dir)
        items = sources.corpus(store, schema, loaded.card.task, ids, lang, source, limit, batch_size)
    if workers is None:  # forking pays off from a few batches on
        small = items.total is not None and items.total <= 2 * batch_size
        workers = 1 if small else default_workers()
    return predict(loaded, items, out or default_out(loaded, settings), workers=workers)
