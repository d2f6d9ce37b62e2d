"""Train one experiment and log everything to MLflow (the data and the fit: ``training.runner``).

The run holds what makes it comparable and reproducible: params under the same
names for every run, the dataset inputs with their fingerprints, the schema
version, the git commit, the config, the test predictions and the model
(skops, with signature and input example), and a selection score from training data only
(``selection.<metric>``: validation split, else grouped cross-validation) that champion choice
ranks by, so the test split is never used to pick a model. Metrics are computed from the logged
predictions by the eval stage (``eval.evaluate.evaluate_run``).
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from datasets import Dataset

from core import interrupts, tracking
from core.errors import NewslabError
from core.provenance import environment
from core.schema import Schema, load_schema
from core.settings import Settings, get_settings
from core.tracking import PREDICTIONS
from newslab_model.contract import Card
from newslab_model.text_features import AUTHOR_COLUMN
from training import flavours, registry
from training.config import ExperimentConfig, load_experiment
from training.models import input_columns
from training.registry import Family
from training.runner import (
    Prepared,
    Selection,
    fit_predict,
    prepare_experiment,
    primary_metric,
    selection_score,
)

#: test-item columns copied beside the predictions, and the length of the text snippet kept
CONTEXT = ("article_id", "target", "lang", "source", "author")
SNIPPET = 300
#: a run's selection score (``selection.<metric>``) and how it was held out (tag: validation, cv-<k>-fold)
SELECTION_PREFIX = "selection."
SELECTION_TAG = "newslab.selection"


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    experiment: str
    name: str
    dataset: str
    model_uri: str
    fit_seconds: float


def selection_metric(metric: str) -> str:
    """The run metric holding the training-data-only score champion choice ranks by."""
    return f"{SELECTION_PREFIX}{metric}"


def prediction_table(
    split: Dataset, gold: list, predicted: list, proba: np.ndarray, classes: list[str]
) -> pd.DataFrame:
    """Held-out predictions as eval reads them: id, gold, pred, ``proba_<label>`` and the item context."""
    predictions = pd.DataFrame({"id": list(split["id"]), "gold": gold, "pred": predicted})
    for i, label in enumerate(classes):
        predictions[f"proba_{label}"] = proba[:, i]
    for column in CONTEXT:  # what eval's breakdowns and error analysis group and show by
        if column in split.column_names:
            predictions[column] = list(split[column])
    predictions["text"] = [t[:SNIPPET] for t in split["text"]]
    return predictions


def model_card(config: ExperimentConfig, data: Prepared, schema: Schema, family: Family) -> Card:
    """What the logged model knows of itself: task, labels, inputs (and how it reads target codes),
    schema and dataset."""
    columns = input_columns(config.model)
    task, meta = data.task, data.meta
    return Card(
        task=config.task,
        labels=list(task.codes),
        multi_label=task.multi_label,
        inputs=[c for c in columns if c != AUTHOR_COLUMN],
        optional_inputs=[c for c in columns if c == AUTHOR_COLUMN],
        target_texts=dict(data.target_texts),
        kind=family.flavour.name,
        trusted_types=registry.trusted_types() if family.flavour is flavours.SKLEARN else [],
        schema_version=str(schema.version),
        schema_fingerprint=schema.fingerprint,
        dataset=meta["name"],
        dataset_fingerprint=meta["fingerprint"],
    )


def _selection(data: Prepared, config: ExperimentConfig, metric: str) -> Selection | None:
    """The run's selection score; None (the run then never becomes champion) where the training data
    is too small for the model to be fitted on every fold, which would not stop the run itself."""
    try:
        return selection_score(data, config.seed, metric, config.selection.folds)
    except (ValueError, NewslabError) as exc:
        warnings.warn(f"no selection score for {config.name}: {exc}", stacklevel=2)
        return None


def _log_params(config: ExperimentConfig, meta: dict, schema: Schema, sizes: dict[str, int]) -> None:
    import mlflow

    params = {
        "task": config.task,
        "model.type": config.model.type,
        "seed": config.seed,
        "dataset.name": meta["name"],
        "dataset.fingerprint": meta["fingerprint"],
        "dataset.limit": meta.get("limit"),
        "selection.folds": config.selection.folds,
        "schema.version": schema.version,
    }
    params.update({f"model.{k}": v for k, v in config.model.params.model_dump().items()})
    params.update({f"dataset.{split}_size": n for split, n in sizes.items()})
    mlflow.log_params(tracking.safe(params))
    # what the result depends on beyond config and data (after the fit: torch's threads if it ran)
    mlflow.log_params(environment({"seed": config.seed}))


def _test_pause() -> None:
    """A test hook: NEWSLAB_TEST_PAUSE_AFTER_FIT=seconds sleeps mid-run, so a test's kill lands there."""
    seconds = os.environ.get("NEWSLAB_TEST_PAUSE_AFTER_FIT")
    if seconds:
        time.sleep(float(seconds))


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
    tracking.connect(settings)  # a store that is down or unwritable fails here, before anything loads
    schema = schema or load_schema(settings.schema_path)
    config, raw_config = load_experiment(experiment)
    if params:
        config = config.with_params(params)
        raw_config = {**raw_config, "model": config.model.model_dump()}
    data = prepare_experiment(config, dataset, settings, schema)
    task, ds, meta, path = data.task, data.ds, data.meta, data.path

    import mlflow

    fitted = fit_predict(data, config.seed, data.train, data.test.x)
    model = fitted.model
    proba = model.predict_proba(data.test.x)

    classes = task.codes if task.multi_label else list(model.classes_)
    predictions = prediction_table(ds["test"], data.test.gold, fitted.predicted, proba, classes)
    metric = primary_metric(task, meta["name"])
    selection = _selection(data, config, metric)

    name = tracking.experiment_name(config.task, meta["name"])
    experiment_id = tracking.ensure_experiment(name, settings)
    tracking.reap(experiment_id)  # runs of this experiment whose process died: FAILED, not RUNNING
    tags = {
        "newslab.experiment": config.name,
        "newslab.task": config.task,
        "newslab.dataset": meta["name"],
        "newslab.dataset_path": str(path),
        "newslab.schema_fingerprint": schema.fingerprint,
        SELECTION_TAG: selection.method if selection else "none",
        "mlflow.source.git.commit": tracking.git_commit(settings.project_dir),
        **tracking.owner_tags(),
    }
    if parent_run_id:
        tags["mlflow.parentRunId"] = parent_run_id
    started = mlflow.start_run(run_name=config.name, tags=tracking.safe(tags))
    kept = f"the MLflow run {started.info.run_id} is marked KILLED (never evaluated or ranked)."
    with (
        tracking.server_lost(settings.resolved_tracking_uri),
        started as run,
        tracking.killed_on_interrupt(),
        interrupts.leaves(kept),
    ):
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
                "fit_seconds": fitted.fit_seconds,
                "predict_items_per_second": len(data.test.x) / max(fitted.predict_seconds, 1e-9),
                **({selection_metric(metric): selection.score} if selection else {}),
            }
        )
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / Path(PREDICTIONS).name
            predictions.to_parquet(out, index=False)
            mlflow.log_artifact(str(out), artifact_path=str(Path(PREDICTIONS).parent))
        _test_pause()
        example = data.train.x.head(2).copy()
        example["text"] = example["text"].str.slice(0, 300)
        family = registry.get(config.model.type)
        requirements = flavours.pinned(family.requirements(config.model.params))
        card = model_card(config, data, schema, family)
        info = flavours.log_model(family.flavour, model, example, requirements, card)
    return TrainResult(run.info.run_id, name, config.name, meta["name"], info.model_uri, fitted.fit_seconds)
