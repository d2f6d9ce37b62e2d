"""The one experiment runner: a built dataset made ready for a model, and the fit and predict.

``newslab train``, sweeps, learning curves and the benchmark all go through here, so each
model sees its data the same way everywhere: the dataset checked against the experiment, the
model's input columns, gold label codes, article ids (leakage groups for inner folds), the
training language (spaCy, stop words), and schema target codes read as the target's name
and aliases.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from datasets import Dataset, DatasetDict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MultiLabelBinarizer

from core import metrics
from core.errors import NewslabError
from core.progress import step
from core.schema import Schema, Task, load_schema
from core.settings import Settings, get_settings
from dataset.build import dataset_path, load
from dataset.config import base_dataset_name, load_dataset_config
from newslab_model.text_features import AUTHOR_COLUMN
from newslab_model.tuned import TunedBiasClassifier
from training import folds
from training.config import ExperimentConfig, ModelConfig
from training.folds import leakage_groups
from training.models import build_model, input_columns


@dataclass(frozen=True)
class Part:
    """One split (or a subset of it): the model's inputs, gold label codes, leakage groups
    (near-duplicate cluster, else article id)."""

    x: pd.DataFrame
    gold: list
    groups: list[str]

    def subset(self, rows: Sequence[int] | np.ndarray) -> Part:
        return Part(self.x.iloc[rows], [self.gold[i] for i in rows], [self.groups[i] for i in rows])


@dataclass(frozen=True)
class Prepared:
    """A dataset ready for one model: its splits as ``Part``s, and what the model is built with."""

    model: ModelConfig
    task: Task
    ds: DatasetDict
    meta: dict
    #: the immutable version folder the dataset link points at
    path: Path
    #: the training split's language
    lang: str
    parts: dict[str, Part] = field(repr=False)
    #: schema target code -> the text the model reads for it (empty: targets read as they are)
    target_texts: dict[str, str] = field(default_factory=dict)

    @property
    def train(self) -> Part:
        return self.parts["train"]

    @property
    def test(self) -> Part:
        return self.parts["test"]

    @property
    def validation(self) -> Part | None:
        return self.parts.get("validation")


@dataclass(frozen=True)
class Fitted:
    model: Any
    predicted: list
    fit_seconds: float
    predict_seconds: float


def training_lang(split: Dataset) -> str:
    """The most common language of a split (spaCy's multi-language ``xx`` when none is given)."""
    langs = pd.Series(split["lang"]).replace("", pd.NA).dropna()
    return str(langs.mode()[0]) if len(langs) else "xx"


def target_texts(schema: Schema, targets: Iterable[str], lang: str) -> dict[str, str]:
    """What a pair model reads for each schema target, when every target given is a schema target
    code (annotated datasets): the target's name and its aliases in ``lang`` ("United States U.S. US
    USA ..."), which the text can share words with, where a code (``united_states``) shares none.
    Free-text targets (FNC-1's headlines, a fixed target string) give ``{}``: read as they are."""
    known = {t.code: t for t in schema.targets}
    present = {t for t in targets if t}
    if not present or not present <= known.keys():
        return {}
    return {code: " ".join(dict.fromkeys([t.name, *t.aliases.get(lang, ())])) for code, t in known.items()}


def split_part(split: Dataset, task: Task, columns: list[str], targets: dict[str, str] | None = None) -> Part:
    """A split's model inputs (targets replaced by ``targets`` where given), gold codes and leakage
    groups (the ``group`` column where set, else the article id)."""
    x = split.select_columns(columns).to_pandas()
    if targets and "target" in x.columns:
        x["target"] = [targets.get(t, t) for t in x["target"]]
    column = "labels" if task.multi_label else "label"
    codes = task.codes
    if task.multi_label:
        gold = [[codes[i] for i in row] for row in split[column]]
    else:
        gold = [codes[i] for i in split[column]]
    groups = split["group"] if "group" in split.column_names else [""] * len(split)
    return Part(x, gold, leakage_groups(groups, split["article_id"]))


def check_dataset(
    ds: DatasetDict, meta: dict, path: Path, model: ModelConfig, task: str, experiment: str = ""
) -> None:
    """What makes the dataset unusable for the experiment, refused before any training."""
    splits = list(ds.keys())
    if meta["task"] != task:
        who = f"the experiment {experiment!r}" if experiment else "the model"
        raise NewslabError(f"{path}: dataset is for task {meta['task']!r}, {who} is for {task!r}.")
    for split in ("train", "test"):
        if split not in splits:
            raise NewslabError(f"{path}: dataset has no {split!r} split (has {', '.join(splits)}).")
    if AUTHOR_COLUMN in input_columns(model):
        check_authors(ds["train"], path)


def check_authors(train: Dataset, path: Path) -> None:
    """``author: true`` needs authors: several of them, one at least with several items."""
    if AUTHOR_COLUMN not in train.column_names:
        raise NewslabError(
            f"{path}: model.params.author reads each item's {AUTHOR_COLUMN!r}, a column the dataset lacks.",
            "Rebuild it: `newslab dataset build NAME`.",
        )
    counts = Counter(a for a in train[AUTHOR_COLUMN] if a)
    if len(counts) < 2 or max(counts.values()) < 2:
        raise NewslabError(
            f"{path}: model.params.author needs authors, and the train split's {AUTHOR_COLUMN!r} column has "
            f"{len(counts)} distinct value(s), {max(counts.values(), default=0)} item(s) at most for one: "
            "nothing to learn from who wrote what."
        )


def from_dataset(
    ds: DatasetDict, meta: dict, path: Path, model: ModelConfig, task: Task, schema: Schema
) -> Prepared:
    """A loaded (and checked) dataset made ready for ``model``."""
    columns = input_columns(model)
    lang = training_lang(ds["train"])
    targets: dict[str, str] = {}
    if task.needs_target and "target" in columns:
        targets = target_texts(schema, (t for split in ds.values() for t in split["target"]), lang)
    parts = {name: split_part(split, task, columns, targets) for name, split in ds.items()}
    return Prepared(model, task, ds, meta, path, lang, parts, targets)


def prepare(
    model: ModelConfig,
    dataset: str,
    task: str | None = None,
    experiment: str = "",
    settings: Settings | None = None,
    schema: Schema | None = None,
) -> Prepared:
    """Load the built dataset ``dataset``, check it (for ``task``: by default the dataset's own) and
    make it ready for ``model``."""
    settings = settings or get_settings()
    schema = schema or load_schema(settings.schema_path)
    if task is not None:
        schema.task(task)  # an unknown task is refused before the dataset is read
    path = dataset_path(dataset, settings)
    ds, meta = load(path)
    path = path.resolve()
    check_dataset(ds, meta, path, model, task or meta["task"], experiment)
    return from_dataset(ds, meta, path, model, schema.task(task or meta["task"]), schema)


def prepare_experiment(
    config: ExperimentConfig,
    dataset: str | None = None,
    settings: Settings | None = None,
    schema: Schema | None = None,
) -> Prepared:
    """``prepare`` for an experiment config (``dataset`` overrides its dataset, e.g. a slice)."""
    return prepare(config.model, dataset or config.dataset, config.task, config.name, settings, schema)


def fit_params(model: Any, groups: list[str] | None) -> dict:
    """Extra arguments of ``model.fit``: leakage groups (article ids) for a bias-tuned classifier's folds."""
    tuned = isinstance(model, Pipeline) and isinstance(model.named_steps["classifier"], TunedBiasClassifier)
    return {"classifier__groups": list(groups)} if tuned and groups is not None else {}


def fit_model(model: Any, x: pd.DataFrame, gold: list, task: Task, groups: list[str] | None = None) -> Any:
    """Fit ``model`` on gold label codes (lists of codes for multi-label tasks, binarised over the
    schema's labels); ``groups`` (article ids) keep one article's items on one side of inner folds."""
    target = MultiLabelBinarizer(classes=task.codes).fit_transform(gold) if task.multi_label else gold
    with warnings.catch_warnings():
        # one-vs-rest warns about each label no training item has; the schema keeps them all
        warnings.filterwarnings("ignore", message="Label not .* is present in all training examples")
        return model.fit(x, target, **fit_params(model, groups))


def predict_codes(model: Any, x: pd.DataFrame, task: Task) -> list:
    """Predicted label codes (a list of codes per item for multi-label tasks)."""
    predicted = model.predict(x)
    if not task.multi_label:
        return list(predicted)
    binarizer = MultiLabelBinarizer(classes=task.codes).fit([task.codes])
    return [list(row) for row in binarizer.inverse_transform(np.asarray(predicted))]


def fit_predict(
    data: Prepared, seed: int, fit: Part, x: pd.DataFrame, model: ModelConfig | None = None
) -> Fitted:
    """Build the model (``data.model``, or another setting of it: a sweep's candidate), fit it on
    ``fit`` and predict ``x``, timing both."""
    estimator = build_model(model or data.model, data.task, seed, lang=data.lang)
    started = time.perf_counter()
    fit_model(estimator, fit.x, fit.gold, data.task, fit.groups)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    predicted = predict_codes(estimator, x, data.task)
    return Fitted(estimator, predicted, fit_seconds, time.perf_counter() - started)


def extra_metrics(dataset: str, task: Task | None = None) -> list[str]:
    """The metrics a dataset's config asks for beside the defaults (the first one ranks its runs).

    An annotations dataset's configurations can mix single- and multi-label tasks: for ``task``,
    a metric defined only for the other kind is left out (a schema flag it lacks is still an error).
    """
    config = load_dataset_config(base_dataset_name(dataset))
    names = list(config.extra_metrics)
    if task is None or not config.from_annotations:
        return names
    kind = metrics.MULTI if task.multi_label else metrics.SINGLE
    return [name for name in names if kind in metrics.get(name).kinds()]


def primary_metric(task: Task, dataset: str) -> str:
    """The figure runs of one task and dataset are ranked by: the benchmark's own, else macro-F1."""
    return metrics.primary(task, extra_metrics(dataset, task))


def score(gold: list, predicted: list, task: Task, metric: str) -> float:
    """One metric of predicted label codes against gold ones."""
    roles = metrics.Roles.of(task)
    chosen = metrics.get(metric)
    return metrics.from_encoded(
        metrics.encode(gold, roles), metrics.encode(predicted, roles), roles, [chosen]
    )[chosen.name]


def out_of_fold(
    data: Prepared, seed: int, part: Part, assignment: np.ndarray, model: ModelConfig | None = None
) -> list:
    """Each item of ``part`` predicted by a model fitted on the other folds of ``assignment``."""
    predicted: list = [None] * len(part.gold)
    fold_splits = list(folds.splits(assignment))
    with step(f"cross-validating {len(fold_splits)} folds", total=len(fold_splits)) as advance:
        for fit_rows, held_rows in fold_splits:
            held = fit_predict(data, seed, part.subset(fit_rows), part.x.iloc[held_rows], model).predicted
            for i, p in zip(held_rows, held, strict=True):
                predicted[i] = p
            advance(1)
    return predicted


@dataclass(frozen=True)
class Selection:
    """A score for choosing between models that never looks at the test split."""

    metric: str
    score: float
    #: "validation", or "cv-<k>-fold" (grouped, stratified folds of the training split)
    method: str


def selection_score(
    data: Prepared, seed: int, metric: str, k: int = 3, model: ModelConfig | None = None, fold_seed: int = 0
) -> Selection:
    """The held-out score of a model setting from training data only: the validation split's where
    the dataset has one, else ``k``-fold cross-validation on the training split."""
    if data.validation is not None:
        predicted = fit_predict(data, seed, data.train, data.validation.x, model).predicted
        return Selection(metric, score(data.validation.gold, predicted, data.task, metric), "validation")
    train = data.train
    assignment = folds.assign(train.gold, train.groups, data.task.codes, data.task.multi_label, k, fold_seed)
    predicted = out_of_fold(data, seed, train, assignment, model)
    return Selection(metric, score(train.gold, predicted, data.task, metric), f"cv-{k}-fold")
