"""The generic importer: a plain labelled table, configured entirely by the dataset config's ``table:``.

CSV, TSV, JSONL, Parquet or a saved ``datasets`` folder; ``table.columns`` maps
columns onto the fields of a ``LabeledItem``. A bad row is an error naming the
file, the line (or row) and the field, and nothing is built. Rows with the same
text share an ``article_id``, so the split builder keeps them (e.g. one text with
several stance targets) in one split; a ``group`` column widens that.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from core.errors import NewslabError
from core.hashing import text_hash
from dataset.config import TABLE_IMPORTER, DatasetConfig
from dataset.importers import register
from dataset.records import LabeledItem
from dataset.splits import SPLIT_NAMES
from dataset.table_config import TableConfig, TableFile
from dataset.table_readers import Row, read_rows, text


@register(TABLE_IMPORTER)
def read(directory: Path, config: DatasetConfig) -> Iterator[LabeledItem]:
    table = config.table
    if table is None:
        raise NewslabError(f"dataset {config.name!r}: the table importer needs a `table:` section.")
    seen: dict[str, str] = {}
    for file in table.files:
        path = file.resolve(directory)
        if not path.exists():
            raise NewslabError(
                f"{path}: file not found (table.files of dataset {config.name!r}).",
                f"Run `newslab assets fetch {config.asset}`."
                if config.asset
                else f"A relative path is read from the project folder, {directory}.",
            )
        numbers: Counter[str] = Counter()
        for row in read_rows(path, table.columns.mapped(), file.format):
            numbers[row.split] += 1
            default_id = "-".join(filter(None, [path.stem, row.split, f"{numbers[row.split]:05d}"]))
            item = _item(row, default_id, file, table, config)
            if item.id in seen:
                raise NewslabError(
                    f"{row.where}: id {item.id!r} repeats the one of {seen[item.id]}.",
                    "Ids must be unique: map a column of unique ids (columns.id), or give the files "
                    "different names.",
                )
            seen[item.id] = row.where
            yield item


def _item(
    row: Row, default_id: str, file: TableFile, table: TableConfig, config: DatasetConfig
) -> LabeledItem:
    columns = table.columns.mapped()

    def value(field: str, required: bool = False) -> str:
        if field not in columns:
            return ""
        found = text(row.values[columns[field]]).strip()
        if required and not found:
            raise NewslabError(f"{row.where}: field {field} (column {columns[field]!r}) is empty.")
        return found

    body = value("text", required=True)
    return LabeledItem(
        id=value("id", required=True) if "id" in columns else default_id,
        text=body,
        labels=_labels(row, table),
        split=_split(row, file, table),
        article_id=f"text-{text_hash(body)}",
        target=value("target", required=True) if "target" in columns else table.target,
        lang=value("lang") or config.lang,
        source=config.source,
        title=value("title"),
        url=value("url"),
        published=value("date"),
        licence=config.licence,
        author=value("author"),
        group=value("group"),
    )


def _labels(row: Row, table: TableConfig) -> tuple[str, ...]:
    field = "label" if table.columns.label else "labels"
    column = table.columns.label or table.columns.labels
    raw = row.values[column]
    if isinstance(raw, list | tuple):
        values = [text(v) for v in raw]
    elif field == "labels" and table.label_separator:
        values = text(raw).split(table.label_separator)
    else:
        values = [text(raw)]
    labels = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
    if not labels and not (field == "labels" and table.allow_empty_labels):
        hint = "Every row needs a label" + (
            "; set `table.allow_empty_labels: true` if a row may have none." if field == "labels" else "."
        )
        raise NewslabError(f"{row.where}: field {field} (column {column!r}) is empty: no label.", hint)
    return labels


def _split(row: Row, file: TableFile, table: TableConfig) -> str:
    """The row's split: its split column, else its file's, else its saved dataset part's; "" to be made."""
    if table.columns.split:
        raw, where = text(row.values[table.columns.split]), f"field split (column {table.columns.split!r})"
    elif file.split or not row.split:
        return file.split
    else:
        raw, where = row.split, "the saved dataset's split"
    split = table.split_of(raw)
    if split is None:
        known = sorted({*SPLIT_NAMES, *table.split_values})
        raise NewslabError(
            f"{row.where}: {where}: unknown split value {raw!r}; known: {', '.join(known)}.",
            "Map it in the dataset config, e.g. `table: {split_values: {dev: validation}}`.",
        )
    return split
