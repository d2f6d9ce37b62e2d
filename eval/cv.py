"""`newslab eval cv`: repeated, grouped, stratified cross-validation of an experiment.

A test split of a few hundred items gives a wide interval; scoring every training item once,
out of fold, gives a narrower one without touching the test split. One parent MLflow run
(``newslab.kind=cv``) holds each fold as a nested run, the fold assignment
(``folds.parquet``: id, repeat, fold; seeded, the same for every experiment given the same
seed and folds, so two CV runs are paired item by item) and repeat 0's pooled out-of-fold
predictions as ``predictions/test.parquet``: every item once, so ``newslab eval run`` and
``newslab eval compare`` read it as they read a test split. Each repeat's pooled score is
logged as ``cv_<metric>`` (step = repeat) with its mean and sd over repeats; every repeat's
predictions are in ``predictions/cv_repeats.parquet``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from datasets import Dataset, concatenate_datasets

from core import tracking
from core.schema import Schema, load_schema
from core.settings import Settings, get_settings
from core.tracking import PREDICTIONS
from eval.evaluate import CV_KIND
from training import folds
from training.config import load_experiment
from training.runner import Part, Prepared, fit_predict, prepare_experiment, primary_metric, score, split_part
from training.train import prediction_table

FOLDS = "folds.parquet"
REPEATS = "predictions/cv_repeats.parquet"


@dataclass(frozen=True)
class CvResult:
    run_id: str
    fold_run_ids: list[str]
    metric: str
    scores: list[float]  #: the pooled out-of-fold score of each repeat

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores))


def pooled_items(data: Prepared, all_splits: bool) -> tuple[Dataset, Part]:
    """The items cross-validated: the training split, or every split pooled."""
    if not all_splits:
        return data.ds["train"], data.train
    split = concatenate_datasets([data.ds[name] for name in data.ds])
    columns = list(data.train.x.columns)
    return split, split_part(split, data.task, columns, data.target_texts)


def fold_predictions(
    data: Prepared, seed: int, split: Dataset, part: Part, fit_rows: np.ndarray, held_rows: np.ndarray
) -> pd.DataFrame:
    """One fold's held-out predictions with a probability column for every schema label (0 for a
    class the fold's training rows lack)."""
    fitted = fit_predict(data, seed, part.subset(fit_rows), part.x.iloc[held_rows])
    proba = fitted.model.predict_proba(part.x.iloc[held_rows])
    codes = data.task.codes
    classes = codes if data.task.multi_label else list(fitted.model.classes_)
    full = np.zeros((len(held_rows), len(codes)))
    for i, label in enumerate(classes):
        full[:, codes.index(label)] = proba[:, i]
    gold = [part.gold[i] for i in held_rows]
    return prediction_table(split.select(held_rows), gold, fitted.predicted, full, codes)


def _params(config, meta: dict, schema: Schema, k: int, repeats: int, seed: int, all_splits: bool) -> dict:  # type: ignore[no-untyped-def]
    return tracking.safe(
        {
            "task": config.task,
            "model.type": config.model.type,
            "seed": config.seed,
            "cv.folds": k,
            "cv.repeats": repeats,
            "cv.seed": seed,
            "cv.items": "all splits" if all_splits else "train",
            "dataset.name": meta["name"],
            "dataset.fingerprint": meta["fingerprint"],
            "dataset.limit": meta.get("limit"),
            "schema.version": schema.version,
            **{f"model.{name}": v for name, v in config.model.params.model_dump().items()},
        }
    )


def cross_validate(
    experiment: str | Path,
    k: int = 5,
    repeats: int = 1,
    dataset: str | None = None,
    all_splits: bool = False,
    seed: int = 0,
    settings: Settings | None = None,
    schema: Schema | None = None,
) -> CvResult:
    """Cross-validate the experiment's model: ``repeats`` seeded assignments (seed, seed+1, ...) of
    ``k`` folds, each fold a nested run; returns the parent run and each repeat's pooled score."""
    import mlflow

    settings = settings or get_settings()
    tracking.connect(settings)
    schema = schema or load_schema(settings.schema_path)
    config, raw_config = load_experiment(experiment)
    data = prepare_experiment(config, dataset, settings, schema)
    task, meta = data.task, data.meta
    split, part = pooled_items(data, all_splits)
    ids = list(split["id"])
    plan = folds.plan(ids, part.gold, part.groups, task.codes, task.multi_label, k, repeats, seed)
    metric = primary_metric(task, meta["name"])

    name = tracking.experiment_name(config.task, meta["name"])
    tracking.reap(tracking.ensure_experiment(name, settings))
    tags = {
        "newslab.experiment": config.name,
        "newslab.task": config.task,
        "newslab.dataset": meta["name"],
        "newslab.dataset_path": str(data.path),
        "newslab.schema_fingerprint": schema.fingerprint,
        "mlflow.source.git.commit": tracking.git_commit(settings.project_dir),
        **tracking.owner_tags(),
    }
    fold_tags = tracking.safe({**tags, "newslab.kind": f"{CV_KIND}-fold"})
    fold_runs: list[str] = []
    pooled: list[pd.DataFrame] = []
    scores: list[float] = []
    started = mlflow.start_run(
        run_name=f"{config.name}-cv", tags=tracking.safe({**tags, "newslab.kind": CV_KIND})
    )
    with started as parent, tracking.killed_on_interrupt():
        mlflow.log_params(_params(config, meta, schema, k, repeats, seed, all_splits))
        mlflow.log_dict(raw_config, "config/experiment.yaml")
        mlflow.log_dict({"task": config.task, "labels": task.codes}, "config/labels.json")
        for r in range(repeats):
            assignment = plan.loc[plan["repeat"] == r, "fold"].to_numpy()
            parts = []
            for f, (fit_rows, held_rows) in enumerate(folds.splits(assignment)):
                child_name = f"{config.name}-cv-r{r}-f{f}"
                with mlflow.start_run(run_name=child_name, nested=True, tags=fold_tags) as child:
                    held = fold_predictions(data, config.seed, split, part, fit_rows, held_rows)
                    mlflow.log_params({"cv.repeat": r, "cv.fold": f, "cv.fit_items": len(fit_rows)})
                    fold_score = score(list(held["gold"]), list(held["pred"]), task, metric)
                    mlflow.log_metric(f"fold_{metric}", fold_score)
                    fold_runs.append(child.info.run_id)
                parts.append(held.assign(repeat=r, fold=f))
            repeat = pd.concat(parts).set_index("id").loc[ids].reset_index()  # item order, each item once
            scores.append(score(list(repeat["gold"]), list(repeat["pred"]), task, metric))
            mlflow.log_metric(f"cv_{metric}", scores[-1], step=r)
            pooled.append(repeat)
        mlflow.log_metrics(
            {f"cv_{metric}_mean": float(np.mean(scores)), f"cv_{metric}_sd": float(np.std(scores))}
        )
        _log_tables(plan, pooled)
    return CvResult(parent.info.run_id, fold_runs, metric, scores)


def _log_tables(plan: pd.DataFrame, pooled: list[pd.DataFrame]) -> None:
    """The fold assignment, repeat 0's predictions where eval reads a test split's, and all repeats'."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        for frame, where in (
            (plan, FOLDS),
            (pooled[0].drop(columns=["repeat", "fold"]), PREDICTIONS),
            (pd.concat(pooled, ignore_index=True), REPEATS),
        ):
            out = Path(tmp) / Path(where).name
            frame.to_parquet(out, index=False)
            parent = str(Path(where).parent)
            mlflow.log_artifact(str(out), artifact_path=None if parent == "." else parent)
