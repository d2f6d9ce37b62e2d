"""Dataset definitions: which importer reads which asset, and how its labels map onto the schema."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from annotation.gold import GoldConfig
from core import metrics
from core.errors import NewslabError
from core.settings import get_settings
from core.yamlio import load_model
from dataset.splits import SplitConfig
from dataset.table_config import TableConfig

TABLE_IMPORTER = "table"  #: the generic importer of labelled tables (dataset/importers/table.py)


class PublishedResult(BaseModel):
    """A figure from the literature, printed beside ours; never used as our result."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str
    metric: str
    value: float
    source: str = ""


class PublishedPredictions(BaseModel):
    """A published system's predictions on our test split (a column of an asset's CSV file, rows in
    the order of the source's test file), for paired comparisons with our runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str
    asset: str
    file: str
    column: str  #: the system's predicted labels, as the source spells them
    gold: str = ""  #: the file's gold-label column, checked against ours when given
    id_format: str  #: our test item id of row ``row`` (0-based), e.g. ``fnc1-test-{row:05d}``


class DatasetConfig(BaseModel):
    """An external set (``importer`` + ``asset`` + ``task``), a labelled table (``table`` + ``task``: local
    files, or an asset's) or our own annotations (``configs``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    task: str = ""
    importer: str = ""
    asset: str = ""
    description: str = ""
    lang: str = ""
    source: str = ""
    licence: str = ""
    #: raw label (as the source spells it) -> schema label code
    label_map: dict[str, str] = Field(default_factory=dict)
    #: importer-specific options (e.g. which files make which split)
    options: dict[str, str | int | float | bool | list[str]] = Field(default_factory=dict)
    #: metrics of the registry (core/metrics) computed beside the defaults; the first one ranks
    #: the dataset's runs (e.g. fnc_score for FNC-1-style sets, f_avg for SemEval-style stance)
    extra_metrics: tuple[str, ...] = ()
    published: tuple[PublishedResult, ...] = ()
    published_predictions: tuple[PublishedPredictions, ...] = ()
    #: how to split items that come without splits (None: the importer's own splits)
    splits: SplitConfig | None = None
    #: a plain labelled table read by the ``table`` importer (files, column mapping)
    table: TableConfig | None = None
    #: annotations only: Hugging Face configuration name -> schema task (e.g. events: event_type)
    configs: dict[str, str] = Field(default_factory=dict)
    #: annotations only: how gold labels are chosen
    gold: GoldConfig = Field(default_factory=GoldConfig)
    #: annotations only: a folder of committed annotations (``<task>.jsonl``, as `newslab annotate pull`
    #: writes them), relative to the project; default: the pulled tables in data/annotations
    annotations: str = ""
    #: annotations only: corpus assets the annotated articles come from, ingested when missing
    corpus_assets: tuple[str, ...] = ()
    #: annotations only: how these annotations were made (who, when, how many passes), for the card
    annotation_process: str = ""

    @model_validator(mode="before")
    @classmethod
    def _table_importer(cls, data: object) -> object:
        """A ``table:`` section needs no ``importer:`` line: it is read by the table importer."""
        if isinstance(data, dict) and data.get("table") is not None and not data.get("importer"):
            return {**data, "importer": TABLE_IMPORTER}
        return data

    @model_validator(mode="after")
    def _kind(self) -> DatasetConfig:
        if self.configs:
            if self.importer or self.asset or self.task or self.table:
                raise ValueError("an annotations dataset (configs) takes no importer, asset, table or task")
            if self.splits is None:
                raise ValueError("an annotations dataset needs `splits`")
        elif (self.table is not None) != (self.importer == TABLE_IMPORTER):
            raise ValueError(f"a `table:` section goes with `importer: {TABLE_IMPORTER}` (or none)")
        elif not (self.importer and (self.asset or self.table) and self.task):
            raise ValueError("an imported dataset needs importer, asset and task (or table and task)")
        return self

    @model_validator(mode="after")
    def _known_metrics(self) -> DatasetConfig:
        known = metrics.registry()
        for name in self.extra_metrics:
            if name not in known:
                raise ValueError(f"extra_metrics: unknown metric {name!r}; known: {', '.join(sorted(known))}")
        for i, result in enumerate(self.published):
            if problem := _published_problem(result.metric, known):
                raise ValueError(f"published[{i}] (system {result.system!r}): {problem}")
        return self

    @property
    def from_annotations(self) -> bool:
        return bool(self.configs)


def _published_problem(name: str, known: dict[str, metrics.Metric]) -> str | None:
    """Why a published figure's metric cannot be shown: a figure under a name no table has a column
    for would be dropped without a word (a typo, a per-label figure, a logged-only metric)."""
    columns = sorted(n for n, m in known.items() if m.column)
    if name not in known:
        return f"unknown metric {name!r}; known metric names: {', '.join(columns)}"
    if not known[name].column:
        return f"metric {name!r} is logged but has no column in tables; use one of: {', '.join(columns)}"
    return None


def dataset_config_path(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"}:
        return path
    return get_settings().configs_dir / "datasets" / f"{name_or_path}.yaml"


def load_dataset_config(name_or_path: str) -> DatasetConfig:
    path = dataset_config_path(name_or_path)
    if not path.exists():
        known = sorted(p.stem for p in (get_settings().configs_dir / "datasets").glob("*.yaml"))
        raise NewslabError(
            f"{path}: no such dataset config.", f"Known datasets: {', '.join(known) or 'none'}."
        )
    return load_model(path, DatasetConfig)


def config_of(dataset: str) -> str:
    """The dataset config an experiment's ``dataset:`` names: ``pilot/stance`` (one configuration
    of a dataset) -> ``pilot``."""
    return dataset.partition("/")[0]


def base_dataset_name(name: str) -> str:
    """``fnc1_n200`` (a slice) -> ``fnc1``."""
    stem, sep, tail = name.rpartition("_n")
    return stem if sep and tail.isdigit() else name
