"""Rows of a labelled table file, whatever its format, each with where it came from.

Every reader yields ``Row``s: the values of the columns asked for and a location
for error messages (``FILE: line N`` for CSV, TSV and JSONL; ``FILE: row N``,
counted from 1, for Parquet and saved datasets). A column the table lacks is an
error naming the file and the field it was mapped to. Files are only read.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from core.errors import NewslabError
from core.jsonl import read_jsonl

SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
SUFFIXES |= {".parquet": "parquet", ".pq": "parquet"}
BATCH = 1024


@dataclass(frozen=True)
class Row:
    where: str  #: "FILE: line N" or "FILE: row N"
    values: dict[str, Any]  #: column -> value (None when the row has no value)
    split: str = ""  #: the split of a saved DatasetDict's part; "" otherwise


def detect_format(path: Path, format: str = "auto") -> str:
    if format != "auto":
        return format
    if path.is_dir():
        return "hf"
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise NewslabError(
            f"{path}: unknown table format {path.suffix!r}.",
            f"Use {', '.join(sorted(SUFFIXES))} or a saved dataset folder, or set the file's `format:`.",
        )
    return found


def read_rows(path: Path, columns: Mapping[str, str], format: str = "auto") -> Iterator[Row]:
    """The rows of ``path``; ``columns`` maps each field asked for to its column (for error messages)."""
    if not path.exists():
        raise NewslabError(f"{path}: file not found.")
    readers: dict[str, Callable[[Path, Mapping[str, str]], Iterator[Row]]] = {
        "csv": _csv,
        "tsv": partial(_csv, delimiter="\t"),
        "jsonl": _jsonl,
        "parquet": _parquet,
        "hf": _saved_dataset,
    }
    return readers[detect_format(path, format)](path, columns)


def text(value: Any) -> str:
    """A cell as text: "" for a missing value, ISO for dates, ``3`` (not ``3.0``) for whole numbers."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _missing(path: Path, where: str, columns: Mapping[str, str], found: list[str]) -> NewslabError:
    absent = [f"{column!r} (columns.{field})" for field, column in columns.items() if column not in found]
    return NewslabError(
        f"{path}: {where}: missing column(s) {', '.join(absent)}; "
        f"found {', '.join(map(repr, found)) or 'none'}.",
        "Fix the column names under `table.columns` in the dataset config.",
    )


def _csv(path: Path, columns: Mapping[str, str], delimiter: str = ",") -> Iterator[Row]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        line = 1
        try:
            header = list(reader.fieldnames or [])
            if any(column not in header for column in columns.values()):
                raise _missing(path, "line 1", columns, header)
            for row in reader:
                line = reader.line_num
                yield Row(f"{path}: line {line}", {c: row.get(c) for c in columns.values()})
        except csv.Error as exc:
            raise NewslabError(
                f"{path}: line {reader.line_num}: malformed {_kind(delimiter)} ({exc})."
            ) from None
        except UnicodeDecodeError as exc:
            raise NewslabError(
                f"{path}: after line {line}: not UTF-8 ({exc.reason}).", "Save the file as UTF-8."
            ) from None


def _kind(delimiter: str) -> str:
    return "TSV" if delimiter == "\t" else "CSV"


def _jsonl(path: Path, columns: Mapping[str, str]) -> Iterator[Row]:
    for number, record in read_jsonl(path, "table row"):
        if any(column not in record for column in columns.values()):
            raise _missing(path, f"line {number}", columns, list(record))
        yield Row(f"{path}: line {number}", {c: record[c] for c in columns.values()})


def _parquet(path: Path, columns: Mapping[str, str]) -> Iterator[Row]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise NewslabError(f"{path}: not a readable Parquet file ({exc}).") from None
    names = file.schema_arrow.names
    if any(column not in names for column in columns.values()):
        raise _missing(path, "columns", columns, names)
    wanted = list(dict.fromkeys(columns.values()))
    decode = _decoders(_features(file.schema_arrow), wanted)
    number = 0
    for batch in file.iter_batches(batch_size=BATCH, columns=wanted):
        for record in batch.to_pylist():
            number += 1
            yield Row(f"{path}: row {number}", {c: decode[c](record[c]) for c in wanted})


def _saved_dataset(path: Path, columns: Mapping[str, str]) -> Iterator[Row]:
    from datasets import Dataset, load_from_disk

    try:
        loaded = load_from_disk(str(path))
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise NewslabError(
            f"{path}: not a dataset saved with `save_to_disk` ({exc}).",
            "Give a CSV, TSV, JSONL or Parquet file, or a folder written by Dataset.save_to_disk.",
        ) from None
    parts = {"": loaded} if isinstance(loaded, Dataset) else dict(loaded)
    for split, data in parts.items():
        label = f"{path} [{split}]" if split else str(path)
        if any(column not in data.column_names for column in columns.values()):
            raise _missing(path, f"split {split!r}" if split else "columns", columns, data.column_names)
        wanted = list(dict.fromkeys(columns.values()))
        decode = _decoders(data.features, wanted)
        number = 0
        for batch in data.select_columns(wanted).iter(batch_size=BATCH):
            for i in range(len(batch[wanted[0]])):
                number += 1
                values = {c: decode[c](batch[c][i]) for c in wanted}
                yield Row(f"{label}: row {number}", values, split=split)


def _features(schema: Any) -> Any:
    """The ``datasets`` features a Parquet file was written with (its ClassLabel names), if any."""
    from datasets import Features

    try:
        return Features.from_arrow_schema(schema)
    except (ValueError, TypeError, KeyError, NotImplementedError):
        return {}


def _decoders(features: Any, columns: list[str]) -> dict[str, Callable[[Any], Any]]:
    """Per column, a function turning ClassLabel indices back into their names (identity elsewhere)."""
    from datasets import ClassLabel, LargeList, List

    def names(label: ClassLabel) -> Callable[[Any], Any]:
        def one(value: Any) -> Any:
            return label.int2str(value) if isinstance(value, int) else value

        return one

    out: dict[str, Callable[[Any], Any]] = {}
    for column in columns:
        feature = features.get(column) if hasattr(features, "get") else None
        if isinstance(feature, ClassLabel):
            out[column] = names(feature)
        elif isinstance(feature, List | LargeList) and isinstance(feature.feature, ClassLabel):
            inner = names(feature.feature)
            out[column] = lambda value, inner=inner: None if value is None else [inner(v) for v in value]
        else:
            out[column] = lambda value: value
    return out
