"""Hyperparameter sweeps with Optuna: ``newslab train CONFIG --sweep``.

The search space is the config's ``sweep.space`` over ``model.params``. Each
trial is scored on the training split only, by cross-validation (``training.folds``: folds
grouped by near-duplicate cluster or article, so one article's items never sit on both sides,
and stratified on the labels; the dataset's
validation split replaces cross-validation when there is one), with the metric
the eval stage computes. Every trial is a nested MLflow run under one sweep run.
The study lives in an Optuna storage (``sweep.storage``, ``NEWSLAB_OPTUNA_STORAGE``,
default ``data/optuna.db``): several machines pointed at one database share one
sweep. The best parameters are then trained on the whole training split as a
normal run (nested too); the caller evaluates it like any run (the eval stage sits above
training).
"""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from core import metrics, tracking
from core.errors import NewslabError
from core.schema import Schema, load_schema
from core.settings import Settings, get_settings
from training.config import ExperimentConfig, SearchRange, load_experiment
from training.runner import Prepared, prepare_experiment, selection_score
from training.train import TrainResult, train


@dataclass(frozen=True)
class SweepResult:
    study: str
    storage: str
    best_params: dict
    best_score: float
    trials: int
    sweep_run_id: str
    final: TrainResult


def storage_url(config: ExperimentConfig, settings: Settings) -> str:
    url = os.environ.get("NEWSLAB_OPTUNA_STORAGE") or (config.sweep.storage if config.sweep else None)
    if url:
        return url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{settings.data_dir / 'optuna.db'}"


#: a worker that died mid-trial: its trial is failed this long after its last heartbeat, so the
#: study does not keep a RUNNING trial forever (checked when any worker starts optimising)
HEARTBEAT_S = 10
GRACE_S = 30


#: how long a study waits for its database server to come back (a restart takes seconds)
RECONNECT_S = (0.5, 1, 2, 4, 8, 16)


def _reconnecting(method):  # type: ignore[no-untyped-def]
    """``method`` retried while the database server is unreachable (refused, shutting down,
    connection lost): the failed statement's transaction was rolled back with the connection,
    so running it again does it once."""
    import functools
    import time

    from sqlalchemy.exc import InterfaceError, OperationalError

    @functools.wraps(method)
    def call(*args, **kwargs):  # type: ignore[no-untyped-def]
        for wait in (*RECONNECT_S, None):
            try:
                return method(*args, **kwargs)
            except Exception as exc:
                # Optuna wraps the driver's error in its StorageInternalError
                lost = (OperationalError, InterfaceError)
                if not (isinstance(exc, lost) or isinstance(exc.__cause__, lost)):
                    raise
                if wait is None:
                    raise NewslabError(
                        f"the Optuna storage stopped answering ({tracking.first_line(exc)[:200]}).",
                        "Completed trials are kept in the study: run the same sweep again once "
                        "the database is back, and it continues.",
                    ) from None
                time.sleep(wait)

    return call


def open_storage(url: str):  # type: ignore[no-untyped-def]
    """The study's storage. On a database server (PostgreSQL) every storage call rides out a
    server restart (``pool_pre_ping`` and reconnect-and-retry, ~30 s), and workers send
    heartbeats, so one killed mid-trial leaves a FAILED trial behind rather than a RUNNING one.
    SQLite is a file and needs neither."""
    import optuna

    if url.startswith("sqlite"):
        return url

    class Reconnecting(optuna.storages.RDBStorage):
        pass

    for name, member in vars(optuna.storages.RDBStorage).items():
        if inspect.isfunction(member) and not name.startswith("_"):  # instance methods only
            setattr(Reconnecting, name, _reconnecting(member))
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # heartbeats
    return Reconnecting(
        url,
        engine_kwargs={"pool_pre_ping": True},
        heartbeat_interval=HEARTBEAT_S,
        grace_period=GRACE_S,
    )


def suggest(trial, space: dict[str, SearchRange]) -> dict:  # type: ignore[no-untyped-def]
    params = {}
    for name, spec in space.items():
        if spec.choices is not None:
            params[name] = trial.suggest_categorical(name, spec.choices)
        elif spec.integer:
            params[name] = trial.suggest_int(name, int(spec.low), int(spec.high), log=spec.log)
        else:
            params[name] = trial.suggest_float(name, spec.low, spec.high, log=spec.log)
    return params


def cv_score(config: ExperimentConfig, data: Prepared) -> float:
    """The sweep metric of one parameter setting (``config.model``), from held-out predictions of
    the training data: the validation split's where there is one, else grouped, stratified folds'
    (``training.folds``, the same folds for every trial)."""
    metric = config.sweep.metric if config.sweep else "macro_f1"
    folds = config.sweep.folds if config.sweep else config.selection.folds
    return selection_score(data, config.seed, metric, folds, config.model).score


def sweep(
    experiment: str,
    trials: int | None = None,
    dataset: str | None = None,
    settings: Settings | None = None,
    schema: Schema | None = None,
    on_trial: Callable[[], None] | None = None,
) -> SweepResult:
    """Run (or continue) the experiment's Optuna study, then train and evaluate its best setting."""
    import mlflow
    import optuna

    settings = settings or get_settings()
    tracking.connect(settings)  # before any trial: a store that is down fails here
    schema = schema or load_schema(settings.schema_path)
    config, _ = load_experiment(experiment)
    if config.sweep is None:
        raise NewslabError(
            f"experiment {config.name!r} has no `sweep:` section.",
            "Add sweep: {trials: 20, metric: macro_f1, space: {C: {low: 0.01, high: 100, log: true}}}.",
        )
    data = prepare_experiment(config, dataset, settings, schema)
    meta = data.meta
    # a misspelt metric, or one the task cannot have, is refused here, before any trial runs
    metrics.check([config.sweep.metric], data.task, f"experiment {config.name}: sweep.metric")
    storage = storage_url(config, settings)
    study_name = f"{config.name}@{meta['name']}:{meta['fingerprint']}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=study_name,
        storage=open_storage(storage),
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=config.seed),
        load_if_exists=True,  # several machines, one study
    )
    name = tracking.experiment_name(config.task, meta["name"])
    tracking.reap(tracking.ensure_experiment(name, settings))
    tags = {
        "newslab.experiment": config.name,
        "newslab.sweep": study_name,
        "newslab.dataset": meta["name"],
        **tracking.owner_tags(),
    }
    tags = tracking.safe(tags)
    started = mlflow.start_run(run_name=f"{config.name}-sweep", tags=tags)
    with (
        tracking.server_lost(settings.resolved_tracking_uri),
        started as parent,
        tracking.killed_on_interrupt(),
    ):
        mlflow.log_params(
            {
                "sweep.metric": config.sweep.metric,
                "sweep.folds": config.sweep.folds,
                "sweep.storage": storage.split("://")[0],
                "dataset.fingerprint": meta["fingerprint"],
            }
        )

        def objective(trial) -> float:  # type: ignore[no-untyped-def]
            params = suggest(trial, config.sweep.space)
            candidate = config.with_params(params)
            trial_run = mlflow.start_run(
                run_name=f"{config.name}-trial-{trial.number}", nested=True, tags=tags
            )
            with trial_run, tracking.killed_on_interrupt():
                mlflow.log_params({f"model.{k}": v for k, v in candidate.model.params.model_dump().items()})
                score = cv_score(candidate, data)
                mlflow.log_metric(f"cv_{config.sweep.metric}", score)
            return score

        callbacks = [lambda study, trial: on_trial()] if on_trial else []
        study.optimize(objective, n_trials=trials or config.sweep.trials, callbacks=callbacks)
        mlflow.log_params({f"best.{k}": v for k, v in study.best_params.items()})
        mlflow.log_metric(f"best_cv_{config.sweep.metric}", study.best_value)
    final = train(
        experiment, dataset, settings, schema, params=study.best_params, parent_run_id=parent.info.run_id
    )
    return SweepResult(
        study_name,
        storage,
        study.best_params,
        study.best_value,
        len(study.trials),
        parent.info.run_id,
        final,
    )
