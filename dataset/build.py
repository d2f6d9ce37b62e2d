"""Build a Hugging Face ``DatasetDict`` from labelled items, with features derived from the schema.

Two kinds of dataset config (``configs/datasets/NAME.yaml``):

- an external set: an importer reads an asset, the config's ``label_map`` maps its
  labels onto the schema; one configuration;
- our annotations (``configs: {events: event_type, stance: stance}``): gold labels
  from the pulled Label Studio annotations joined with the corpus; one
  configuration per task.

Items without splits are split by ``dataset.splits`` (seeded, stratified,
near-duplicate clusters kept in one split). A build is written as an immutable
version folder ``data/datasets/.versions/<name>/<fingerprint>/`` (``save_to_disk``
plus Parquet per split, ``newslab.json`` and the dataset card ``README.md``);
``data/datasets/<name>`` is a symbolic link to the current version, replaced
atomically at the end. An interrupted build leaves the previous version in
place; rebuilding the same content writes nothing (unless the current version's files
no longer match their recorded checksums: then it is rewritten). One build of a dataset
at a time: ``dataset.versions`` has the lock, the checksums and the pruning.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import datasets
import pyarrow as pa
from datasets import ClassLabel, Dataset, DatasetDict, DatasetInfo, Features, List, Value, load_from_disk

from core.assets import ensure
from core.errors import NewslabError
from core.schema import Schema, Task, load_schema
from core.settings import Settings, get_settings
from corpus.store import Store
from dataset import source_lock
from dataset.annotated import AnnotatedPart, annotated_parts
from dataset.card import CardPart, render
from dataset.config import DatasetConfig, load_dataset_config
from dataset.importers import get_importer
from dataset.records import LabeledItem
from dataset.splits import SPLIT_NAMES, SplitConfig, assign_splits
from dataset.versions import META_FILE, VERSIONS, build_lock, ensure_intact, write_version

__all__ = ["META_FILE", "VERSIONS", "build", "load", "publish", "write_version"]

CARD_FILE = "README.md"


@dataclass(frozen=True)
class BuiltDataset:
    name: str
    task: str  #: the task, or the tasks joined by "," for a dataset with several configurations
    path: Path
    fingerprint: str
    counts: dict[str, int]
    written: bool  #: False when an identical dataset was already current
    configs: dict[str, dict[str, int]] = field(default_factory=dict)  #: config -> split counts
    warnings: list[str] = field(default_factory=list)


def label_column(task: Task) -> str:
    return "labels" if task.multi_label else "label"


def features_for(task: Task) -> Features:
    """The dataset features of a task: a ClassLabel, or a list of them for multi-label tasks."""
    label = ClassLabel(names=task.codes)
    return Features(
        {
            "id": Value("string"),
            "article_id": Value("string"),
            "text": Value("string"),
            "title": Value("string"),
            "target": Value("string"),
            "lang": Value("string"),
            "source": Value("string"),
            "url": Value("string"),
            "published": Value("string"),
            "licence": Value("string"),
            "attribution": Value("string"),
            "author": Value("string"),
            "group": Value("string"),
            "n_annotators": Value("int32"),
            "agreement": Value("float32"),
            label_column(task): List(label) if task.multi_label else label,
        }
    )


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
        if task.needs_target and not item.target:
            raise NewslabError(
                f"dataset {config.name!r}, item {item.id}: {config.task} needs a target, the item has none.",
                "For a table, map a target column (table.columns.target) or give `table.target`.",
            )
        if not task.multi_label and len(labels) != 1:
            raise NewslabError(
                f"dataset {config.name!r}, item {item.id}: {config.task} is single-label "
                f"but the item has {len(labels)} labels."
            )
        mapped.append(replace(item, labels=labels))
    return mapped


def split_items(
    items: list[LabeledItem], config: SplitConfig | None, where: str
) -> tuple[list[LabeledItem], list[str]]:
    """Give a split to the items that have none (all of them share one split config)."""
    todo = [i for i, item in enumerate(items) if not item.split]
    if not todo:
        return items, []
    if config is None:
        raise NewslabError(
            f"{where}: item {items[todo[0]].id} has no split and the config has no `splits:`.",
            "Add `splits: {seed: 13}` to the dataset config.",
        )
    chosen = [items[i] for i in todo]
    result = assign_splits(
        [i.id for i in chosen],
        [i.leakage_group for i in chosen],
        [i.labels for i in chosen],
        config,
        dates=[i.published for i in chosen],
    )
    out = list(items)
    for index, split in zip(todo, result.splits, strict=True):
        out[index] = replace(items[index], split=split)
    return out, [f"{where}: {w}" for w in result.warnings]


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
    by_split: dict[str, list[LabeledItem]] = {}
    for item in items:
        by_split.setdefault(item.split, []).append(item)
    splits: dict[str, Dataset] = {}
    for split in sorted(by_split, key=lambda s: (*SPLIT_NAMES, s).index(s)):
        rows = by_split[split]
        data = {name: [getattr(i, name) for i in rows] for name in features if name != column}
        # label codes to ClassLabel indices here: Dataset.from_dict would encode row by row
        index = {code: i for i, code in enumerate(task.codes)}
        if task.multi_label:
            data[column] = [[index[label] for label in i.labels] for i in rows]
        else:
            data[column] = [index[i.labels[0]] for i in rows]
        table = pa.Table.from_pydict(data, schema=features.arrow_schema)
        splits[split] = Dataset(table, info=DatasetInfo(features=features), split=split)
    return DatasetDict(splits)


def dataset_path(name: str, settings: Settings | None = None) -> Path:
    return (settings or get_settings()).datasets_dir / name


def read_meta(path: Path) -> dict | None:
    meta = path / META_FILE
    if not meta.is_file():
        return None
    try:
        return json.loads(meta.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NewslabError(f"{meta}: unreadable dataset meta ({exc}).", "Rebuild the dataset.") from None


@dataclass
class Part:
    """One configuration of a dataset being built."""

    name: str  #: configuration name ("default" for an imported set)
    task_name: str
    task: Task
    items: list[LabeledItem]
    fingerprint: str = ""
    card: CardPart | None = None
    meta: dict = field(default_factory=dict)


def _part_meta(part: Part, config: DatasetConfig, schema: Schema, limit: int | None, seed: int) -> dict:
    counts = dict(Counter(item.split for item in part.items))
    return {
        "name": config.name,
        "config": part.name,
        "task": part.task_name,
        "label_column": label_column(part.task),
        "fingerprint": part.fingerprint,
        "schema_version": schema.version,
        "schema_fingerprint": schema.fingerprint,
        "limit": limit,
        "seed": seed,
        "counts": counts,
        "label_distribution": {
            split: dict(Counter(label for i in part.items if i.split == split for label in i.labels))
            for split in counts
        },
        "source": config.source,
        "licence": config.licence,
    }


def _write_part(part: Part, folder: Path) -> None:
    datasets.disable_progress_bars()  # newslab reports progress itself
    ds = to_dataset_dict(part.items, part.task)
    folder.mkdir(parents=True, exist_ok=True)
    ds.save_to_disk(str(folder / "hf"))
    (folder / "parquet").mkdir()
    for split, data in ds.items():
        data.to_parquet(str(folder / "parquet" / f"{split}.parquet"))
    (folder / META_FILE).write_text(json.dumps(part.meta, indent=2, ensure_ascii=False), encoding="utf-8")


def imported_parts(config: DatasetConfig, schema: Schema, settings: Settings) -> list[Part]:
    # an importer reads its asset's folder (declared in the manifest, fetched if need be); a table of
    # local files resolves them from the project
    directory = ensure(config.asset, settings) if config.asset else settings.project_dir
    items = list(get_importer(config.importer)(directory, config))
    task = schema.task(config.task)
    return [Part("default", config.task, task, map_labels(items, config, schema))]


def build(
    name: str,
    limit: int | None = None,
    seed: int = 0,
    schema: Schema | None = None,
    settings: Settings | None = None,
    accept_changes: bool = False,
) -> BuiltDataset:
    """Build a dataset by its config name (or path) and make it the current version.

    Local source files (``table.files`` without an asset) must be the ones of the first build
    (``dataset.source_lock``); ``accept_changes`` records changed ones instead of refusing them.
    """
    settings = settings or get_settings()
    schema = schema or load_schema(settings.schema_path)
    config = load_dataset_config(name)
    dest = dataset_path(config.name if not limit else f"{config.name}_n{limit}", settings)
    with build_lock(dest):  # a second build of this dataset refuses (or waits: NEWSLAB_LOCK_WAIT)
        return _build(config, dest, limit, seed, schema, settings, accept_changes)


def _build(
    config: DatasetConfig,
    dest: Path,
    limit: int | None,
    seed: int,
    schema: Schema,
    settings: Settings,
    accept_changes: bool,
) -> BuiltDataset:
    gold_parts = {}
    sources = None
    if config.from_annotations:
        source = settings.project_dir / config.annotations if config.annotations else settings.annotations_dir
        gold_parts = annotated_parts(
            config.configs,
            config.gold,
            schema,
            source,
            Store(settings.corpus_dir),
            corpus_assets=config.corpus_assets,
            settings=settings,
        )
        parts = [Part(n, p.task, schema.task(p.task), p.items) for n, p in gold_parts.items()]
    else:
        local = config.table.paths(settings.project_dir) if config.table and not config.asset else []
        if local:
            lock = source_lock.lock_path(config.name, settings)
            sources = source_lock.check(config.name, local, lock, accept_changes)
        parts = imported_parts(config, schema, settings)
    built = publish(config, parts, schema, dest, limit, seed, gold_parts)
    if sources is not None:
        sources.record()  # only now: a build refused for bad input locks nothing
    return built


def publish(
    config: DatasetConfig,
    parts: list[Part],
    schema: Schema,
    dest: Path,
    limit: int | None = None,
    seed: int = 0,
    gold_parts: Mapping[str, AnnotatedPart] | None = None,
) -> BuiltDataset:
    """Split, fingerprint, write (with its card) and make current the configurations of a dataset."""
    gold_parts = gold_parts or {}
    warnings: list[str] = []
    for part in parts:
        if not part.items:
            raise NewslabError(f"dataset {config.name!r}, {part.name}: no items.")
        part.items, found = split_items(part.items, config.splits, f"dataset {config.name!r}, {part.name}")
        warnings += found
        gold = gold_parts.get(part.name)
        if gold and gold.unavailable:  # split with the others so they keep their splits; now left out
            part.items = [i for i in part.items if i.id not in set(gold.unavailable)]
        part.items = subsample(part.items, limit, seed)
        part.fingerprint = fingerprint(part.items, part.task, schema)
        part.meta = _part_meta(part, config, schema, limit, seed)
        part.card = CardPart(
            part.name,
            part.task_name,
            part.task,
            part.items,
            path=part.name if config.from_annotations else "",
            gold=gold.gold if gold else None,
            agreement=gold.agreement if gold else None,
            warnings=found,
            unavailable=gold.unavailable if gold else [],
            unavailable_assets=gold.unavailable_assets if gold else [],
        )
    if config.from_annotations:
        digest = hashlib.sha256("".join(f"{p.name}={p.fingerprint};" for p in parts).encode()).hexdigest()[
            :16
        ]
    else:
        digest = parts[0].fingerprint

    def write(folder: Path) -> None:
        if config.from_annotations:
            for part in parts:
                _write_part(part, folder / part.name)
            top = {
                "name": config.name,
                "fingerprint": digest,
                "configs": {
                    p.name: {"task": p.task_name, "fingerprint": p.fingerprint, "counts": p.meta["counts"]}
                    for p in parts
                },
                "gold": config.gold.model_dump(),
                "splits": config.splits.model_dump() if config.splits else None,
            }
            (folder / META_FILE).write_text(json.dumps(top, indent=2), encoding="utf-8")
        else:
            _write_part(parts[0], folder)
        extra = {"Label schema version": str(schema.version)}
        card = render(config, [p.card for p in parts if p.card], digest, extra)
        (folder / CARD_FILE).write_text(card, encoding="utf-8")

    written = write_version(dest, digest, write)
    counts = dict(Counter(i.split for p in parts for i in p.items))
    return BuiltDataset(
        config.name,
        ",".join(p.task_name for p in parts),
        dest,
        digest,
        counts,
        written,
        configs={p.name: p.meta["counts"] for p in parts},
        warnings=warnings,
    )


def load(path: Path) -> tuple[DatasetDict, dict]:
    """Load a built dataset, or one configuration of it (``data/datasets/newslab/events``), and its meta."""
    meta = read_meta(path)
    if meta is not None and "configs" in meta and not (path / "hf").exists():
        names = ", ".join(f"{path.name}/{c}" for c in meta["configs"])
        raise NewslabError(f"{path}: this dataset has several configurations; load one of {names}.")
    if meta is None or not (path / "hf").exists():
        raise NewslabError(f"{path}: no built dataset here.", "Run `newslab dataset build NAME` first.")
    ensure_intact(path)  # a damaged file is named here, not a crash inside training
    return load_from_disk(str(path / "hf")), meta
