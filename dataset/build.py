"""Build a Hugging Face ``DatasetDict`` from labelled items, with features derived from the schema.

The dataset is written atomically under ``data/datasets/<name>/`` (``save_to_disk``
plus Parquet per split and a ``newslab.json`` with the fingerprint); a build
that is interrupted leaves the previous one in place, and a rebuild of the same
content writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from datasets import ClassLabel, Dataset, DatasetDict, Features, List, Value, load_from_disk

from dataset.config import DatasetConfig, load_dataset_config
from dataset.importers import get_importer
from dataset.records import LabeledItem
from newslab.assets import asset_dir, load_manifest
from newslab.errors import NewslabError
from newslab.schema import Schema, Task, load_schema
from newslab.settings import Settings, get_settings

SPLIT_ORDER = ("train", "validation", "test")
META_FILE = "newslab.json"


@dataclass(frozen=True)
class BuiltDataset:
    name: str
    task: str
    path: Path
    fingerprint: str
    counts: dict[str, int]
    written: bool  #: False when an identical dataset was already on disk


def features_for(task: Task) -> Features:
    """The dataset features of a task: a ClassLabel, or a list of them for multi-label tasks."""
    label = ClassLabel(names=task.codes)
    return Features(
        {
            "id": Value("string"),
            "article_id": Value("string"),
            "text": Value("string"),
            "target": Value("string"),
            "lang": Value("string"),
            "source": Value("string"),
            "labels" if task.multi_label else "label": List(label) if task.multi_label else label,
        }
    )


def label_column(task: Task) -> str:
    return "labels" if task.multi_label else "label"


def map_labels(items: Iterable[LabeledItem], config: DatasetConfig, schema: Schema) -> list[LabeledItem]:
    """Apply the config's label map and refuse labels the schema does not know, naming the item."""
    task = schema.task(config.task)
    codes = set(task.codes)
    mapped: list[LabeledItem] = []
    for item in items:
        labels = tuple(config.label_map.get(label, label) for label in item.labels)
        unknown = [label for label in labels if label not in codes]
        if unknown:
            raise NewslabError(
                f"dataset {config.name!r}, item {item.id}: label {unknown[0]!r} is not a "
                f"{config.task} label (schema: {', '.join(task.codes)}).",
                f"Map it in configs/datasets/{config.name}.yaml (label_map) or add it to the schema.",
            )
        if not task.multi_label and len(labels) != 1:
            raise NewslabError(
                f"dataset {config.name!r}, item {item.id}: {config.task} is single-label "
                f"but the item has {len(labels)} labels."
            )
        mapped.append(replace(item, labels=labels))
    return mapped


def subsample(items: list[LabeledItem], limit: int | None, seed: int) -> list[LabeledItem]:
    """At most ``limit`` items per split, drawn with a fixed seed, in their original order."""
    if not limit:
        return items
    by_split: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        by_split.setdefault(item.split, []).append(index)
    rng = random.Random(seed)
    keep: set[int] = set()
    for indices in by_split.values():
        keep.update(indices if len(indices) <= limit else rng.sample(indices, limit))
    return [item for index, item in enumerate(items) if index in keep]


def fingerprint(items: list[LabeledItem], task: Task, schema: Schema) -> str:
    """A content hash: it changes when an item, a label or the label set changes, and only then."""
    digest = hashlib.sha256()
    digest.update(json.dumps(features_for(task).to_dict(), sort_keys=True).encode())
    digest.update(schema.fingerprint.encode())
    for item in sorted(items, key=lambda i: (i.split, i.id)):
        digest.update(json.dumps(asdict(item), sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def to_dataset_dict(items: list[LabeledItem], task: Task) -> DatasetDict:
    features = features_for(task)
    column = label_column(task)
    splits: dict[str, Dataset] = {}
    present = {item.split for item in items}
    for split in sorted(present, key=lambda s: (*SPLIT_ORDER, s).index(s)):
        rows = [item for item in items if item.split == split]
        data = {
            "id": [i.id for i in rows],
            "article_id": [i.article_id for i in rows],
            "text": [i.text for i in rows],
            "target": [i.target for i in rows],
            "lang": [i.lang for i in rows],
            "source": [i.source for i in rows],
            column: [list(i.labels) if task.multi_label else i.labels[0] for i in rows],
        }
        splits[split] = Dataset.from_dict(data, features=features, split=split)
    return DatasetDict(splits)


def dataset_path(name: str, settings: Settings | None = None) -> Path:
    return (settings or get_settings()).datasets_dir / name


def read_meta(path: Path) -> dict | None:
    meta = path / META_FILE
    if not meta.is_file():
        return None
    return json.loads(meta.read_text(encoding="utf-8"))


def _write_atomically(ds: DatasetDict, meta: dict, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        ds.save_to_disk(str(tmp / "hf"))
        (tmp / "parquet").mkdir()
        for split, part in ds.items():
            part.to_parquet(str(tmp / "parquet" / f"{split}.parquet"))
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
        old = dest.with_name(f".{dest.name}.old")
        if old.exists():
            shutil.rmtree(old)
        if dest.exists():
            os.replace(dest, old)
        os.replace(tmp, dest)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def build(
    name: str,
    limit: int | None = None,
    seed: int = 0,
    schema: Schema | None = None,
    settings: Settings | None = None,
) -> BuiltDataset:
    """Import a dataset by its config name, map its labels onto the schema and save it."""
    settings = settings or get_settings()
    schema = schema or load_schema(settings.schema_path)
    config = load_dataset_config(name)
    task = schema.task(config.task)
    load_manifest(settings.assets_manifest).get(config.asset)  # the asset must be declared
    items = list(get_importer(config.importer)(asset_dir(config.asset, settings), config))
    items = subsample(map_labels(items, config, schema), limit, seed)
    if not items:
        raise NewslabError(f"dataset {name!r}: the importer produced no items.")
    digest = fingerprint(items, task, schema)
    dest = dataset_path(config.name if not limit else f"{config.name}_n{limit}", settings)
    counts = dict(Counter(item.split for item in items))
    old = read_meta(dest)
    if old and old.get("fingerprint") == digest and (dest / "hf").exists():
        return BuiltDataset(config.name, config.task, dest, digest, counts, written=False)
    column = label_column(task)
    distribution = {
        split: dict(Counter(label for i in items if i.split == split for label in i.labels))
        for split in counts
    }
    meta = {
        "name": config.name,
        "task": config.task,
        "label_column": column,
        "fingerprint": digest,
        "schema_version": schema.version,
        "schema_fingerprint": schema.fingerprint,
        "limit": limit,
        "seed": seed,
        "counts": counts,
        "label_distribution": distribution,
        "source": config.source,
        "licence": config.licence,
    }
    _write_atomically(to_dataset_dict(items, task), meta, dest)
    return BuiltDataset(config.name, config.task, dest, digest, counts, written=True)


def load(path: Path) -> tuple[DatasetDict, dict]:
    """Load a built dataset and its metadata; a clear error when it is not there."""
    meta = read_meta(path)
    if meta is None or not (path / "hf").exists():
        raise NewslabError(f"{path}: no built dataset here.", "Run `newslab dataset build NAME` first.")
    return load_from_disk(str(path / "hf")), meta
