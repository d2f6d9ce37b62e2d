"""``newslab annotate next``: one active-learning round, from the corpus into Label Studio.

The champion (or a given model) scores every item of the task no project holds yet
(``pool.build_pool``); a query strategy picks the batch (``training.query.select``: near-duplicates
of labelled items left out, one per cluster, a diversity step over TF-IDF vectors); the batch
goes to every project of the task, sibling projects included, with the model's prediction as a
pre-annotation and the strategy's score in the task data (``al_score``: a sortable column of the
Data Manager; tasks are imported best first). Each round is an MLflow run (``newslab.kind =
al_round``: strategy, model version, the chosen keys and scores, the stop sample's predictions),
so the annotation history can be replayed, and the stopping signal compares it with the rounds
before (``stopping``).

Everything that can refuse the round (task, strategy, model, projects, an empty or too small
pool) is checked before anything is pushed.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from annotation.client import Connection, connect
from annotation.projects import REVIEW, ProjectRef, find_projects
from annotation.push import PushReport, push, task_key
from annotation.queue import queued
from core import tracking
from core.errors import NewslabError
from core.progress import step
from core.schema import Schema, load_schema
from core.settings import Settings, get_settings
from corpus.store import Store
from newslab.active.pool import Pool, build_pool, clusters_of, corpus_items, stop_sample
from newslab.active.stopping import Signal, Snapshot, signal
from newslab.backend.choose import DEFAULT_DATASET, annotated_task, champion_uri, choose
from newslab_model.contract import LABEL
from training import query
from training.loading import LoadedModel
from training.predict import CHUNK, as_prelabel, task_inputs
from training.train import SELECTION_PREFIX

KIND = "al_round"
#: items of the fixed sample successive models are compared on
STOP_SAMPLE = 500
#: task data fields a round adds (the Data Manager shows and sorts them)
SCORE_FIELD, ROUND_FIELD, STRATEGY_FIELD = "al_score", "al_round", "al_strategy"


@dataclass(frozen=True)
class Chosen:
    key: str
    article_id: str
    target: str
    score: float
    predicted: list[str]


@dataclass(frozen=True)
class CurvePoint:
    """One round of the learning curve so far."""

    round: int
    labelled: int
    model_version: str
    trained_on: int | None
    validation: float | None
    metric: str
    kappa: float | None


@dataclass
class RoundReport:
    round: int
    task: str
    strategy: str
    model_version: str
    pool: Pool
    chosen: list[Chosen]
    pushed: dict[str, PushReport] = field(default_factory=dict)
    run_id: str = ""
    signal: Signal | None = None
    curve: list[CurvePoint] = field(default_factory=list)


def task_projects(conn: Connection, schema: Schema, task: str, settings: Settings) -> list[ProjectRef]:
    """The task's projects (main and annotators' siblings; not the review project)."""
    projects = [p for p in find_projects(conn, schema, settings) if p.task == task and p.annotator != REVIEW]
    if not projects:
        raise NewslabError(
            f"no Label Studio project for task {task!r}.", "Run `newslab annotate setup` first."
        )
    return projects


def model_output(loaded: LoadedModel, tasks: list[dict], what: str) -> pd.DataFrame:
    """The model's ``label`` and ``proba_<code>`` columns for each task, in order (chunked)."""
    frames = []
    with step(f"predicting {len(tasks):,} {what} with {loaded.version}", total=len(tasks)) as advance:
        for start in range(0, len(tasks), CHUNK):
            chunk = tasks[start : start + CHUNK]
            frames.append(loaded.predict(task_inputs(loaded, chunk)))
            advance(len(chunk))
    if not frames:
        return pd.DataFrame(columns=[LABEL, *loaded.card.proba_columns])
    return pd.concat(frames, ignore_index=True)


def _labels(value, multi_label: bool) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(v) for v in value] if multi_label else [str(value)]


def label_cardinality(settings: Settings, schema: Schema, task: str) -> float:
    """The mean number of labels of the task's submitted annotations (the pulled table's)."""
    from annotation.agreement import submitted
    from annotation.tables import read_annotations

    path = settings.annotations_dir / f"{task}.parquet"
    if not path.exists():
        raise NewslabError(
            "query strategy 'label_cardinality' needs the labelled items' mean number of labels, "
            f"from the pulled annotations ({path}), which are not there.",
            "Run `newslab annotate pull` first, or use --strategy label_uncertainty.",
        )
    rows = submitted(read_annotations(path, schema, task))
    if not len(rows):
        raise NewslabError(f"{path}: no submitted annotation to take the mean number of labels from.")
    return float(rows["labels"].map(len).mean())


def tfidf(tasks: list[dict]):  # type: ignore[no-untyped-def]
    """The candidates' TF-IDF vectors (title and text), for the diversity step."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [f"{t.get('title', '')}\n{t.get('text', '')}" for t in tasks]
    return TfidfVectorizer(max_features=50_000, sublinear_tf=True, min_df=1).fit_transform(texts)


def round_model(
    model: str | None, task: str, dataset: str, settings: Settings, schema: Schema
) -> LoadedModel:
    """The model that scores the pool: ``model``, else the champion of ``task`` on ``dataset``."""
    try:
        _, loaded = choose(model or champion_uri(task, dataset), task, settings=settings, schema=schema)
    except NewslabError as exc:
        if model:
            raise
        raise NewslabError(
            f"{task}: no trained model to choose the next items with ({exc.message})",
            f"Train one on {dataset} (`newslab train EXPERIMENT`, then `newslab eval RUN` makes it the "
            "champion), or give --model (a run id or models:/NAME@ALIAS).",
        ) from None
    return loaded


def _check_pool(pool: Pool, batch: int, task: str) -> None:
    why = []
    if pool.queued:
        why.append(f"{pool.queued:,} already in a project")
    if pool.near_duplicates:
        why.append(f"{pool.near_duplicates:,} near-duplicates of labelled items")
    left = f" ({'; '.join(why)} of {pool.items:,} items)" if why else ""
    if not pool.tasks:
        raise NewslabError(
            f"{task}: the pool of unlabelled items is empty{left}: nothing to choose from.",
            "Ingest more articles (`newslab corpus ingest`).",
        )
    if batch > len(pool.tasks):
        raise NewslabError(
            f"{task}: a batch of {batch:,} from a pool of {len(pool.tasks):,} unlabelled items{left}.",
            f"Ask for at most {len(pool.tasks):,} (--batch).",
        )


def next_round(
    task: str,
    batch: int,
    strategy: str,
    model: str | None = None,
    *,
    dataset: str = DEFAULT_DATASET,
    seed: int = 0,
    diversity: bool = True,
    settings: Settings | None = None,
    conn: Connection | None = None,
    stop_size: int = STOP_SAMPLE,
    on_push: Callable[[ProjectRef, PushReport], None] | None = None,
) -> RoundReport:
    """Choose the ``batch`` items most worth labelling for ``task`` and push them to its projects."""
    settings = settings or get_settings()
    schema = load_schema(settings.schema_path)
    annotated_task(schema, task)
    spec = schema.task(task)
    if batch < 1:
        raise NewslabError(f"--batch {batch}: ask for at least 1 item.")
    query.scores(np.full((1, len(spec.codes)), 0.5), strategy, multi_label=spec.multi_label)  # known, fits
    cardinality = label_cardinality(settings, schema, task) if strategy == "label_cardinality" else None
    conn = conn or connect(settings)
    projects = task_projects(conn, schema, task, settings)
    store = Store(settings.corpus_dir)
    items = corpus_items(store, schema, task)
    pool = build_pool(items, clusters_of(store), queued(conn, projects))
    _check_pool(pool, batch, task)
    loaded = round_model(model, task, dataset, settings, schema)  # the slow check last

    output = model_output(loaded, pool.tasks, "candidates")
    proba = output[loaded.card.proba_columns].to_numpy(dtype=float)
    proba = _schema_order(proba, loaded.card.labels, spec.codes)
    selection = query.select(
        proba,
        strategy,
        batch,
        multi_label=spec.multi_label,
        features=tfidf(pool.tasks) if diversity else None,
        groups=pool.groups,
        seed=seed,
        label_cardinality=cardinality,
    )
    rows = output.to_dict("records")
    chosen = [
        Chosen(
            task_key(pool.tasks[i]),
            pool.tasks[i]["article_id"],
            pool.tasks[i].get("target", ""),
            float(s),
            _labels(rows[i][LABEL], spec.multi_label),
        )
        for i, s in zip(selection.indices, selection.scores, strict=True)
    ]
    now = _stop_predictions(loaded, stop_sample(items, stop_size), pool, output, spec.multi_label)
    previous = previous_rounds(task, settings)
    number = len(previous) + 1
    history = [*(p.snapshot for p in previous), Snapshot(number, loaded.version, now)]
    report = RoundReport(number, task, strategy, loaded.version, pool, chosen)
    report.signal = signal(history, spec.codes, spec.multi_label)

    tasks = []
    predictions = {}
    for c, i in zip(chosen, selection.indices, strict=True):
        data = {
            **pool.tasks[i],
            SCORE_FIELD: round(c.score, 6),
            ROUND_FIELD: number,
            STRATEGY_FIELD: strategy,
        }
        tasks.append(data)
        predictions[c.key] = as_prelabel(rows[i], loaded, task)
    _log_round(report, loaded, projects, conn, settings, seed, diversity, now, tasks, predictions, on_push)
    kappa = report.signal.kappas[-1] if report.signal.kappas else None
    this = _Past(report.run_id, number, loaded.version, pool.labelled, None, loaded.run_id, kappa)
    report.curve = curve([*previous, this])
    return report


def _stop_predictions(
    loaded: LoadedModel, sample: list[dict], pool: Pool, output: pd.DataFrame, multi_label: bool
) -> dict[str, tuple[str, ...]]:
    """The model's labels on the stop sample: the pool's predictions where it has them, the rest
    (items queued or left out) predicted now."""
    known = {k: _labels(v, multi_label) for k, v in zip(pool.keys, output[LABEL], strict=True)}
    rest = [t for t in sample if task_key(t) not in known]
    if rest:
        more = model_output(loaded, rest, "items of the stop sample")
        known.update({task_key(t): _labels(v, multi_label) for t, v in zip(rest, more[LABEL], strict=True)})
    return {task_key(t): tuple(known[task_key(t)]) for t in sample}


def _schema_order(proba: np.ndarray, labels: list[str], codes: list[str]) -> np.ndarray:
    """The model's probability columns in the schema's label order."""
    if list(labels) == list(codes):
        return proba
    out = np.zeros((len(proba), len(codes)))
    for j, code in enumerate(labels):
        if code in codes:
            out[:, codes.index(code)] = proba[:, j]
    return out


def _log_round(
    report: RoundReport,
    loaded: LoadedModel,
    projects: list[ProjectRef],
    conn: Connection,
    settings: Settings,
    seed: int,
    diversity: bool,
    stop_predictions: dict[str, tuple[str, ...]],
    tasks: list[dict],
    predictions: dict[str, dict],
    on_push: Callable[[ProjectRef, PushReport], None] | None,
) -> None:
    """The round as an MLflow run, the push inside it: a push that fails leaves the run FAILED."""
    import mlflow

    experiment_id = _experiment(loaded, report.task, settings)
    tags = {
        tracking.KIND_TAG: KIND,
        "newslab.task": report.task,
        "newslab.al.prefix": settings.ls_project_prefix,
        "newslab.model_version": loaded.version,
        **tracking.owner_tags(),
    }
    params = {
        "strategy": report.strategy,
        "batch": len(report.chosen),
        "seed": seed,
        "diversity": diversity,
        "model_uri": loaded.uri,
        "model_version": loaded.version,
        "model_run_id": loaded.run_id,
        "projects": ", ".join(p.title for p in projects),
    }
    with (
        mlflow.start_run(
            experiment_id=experiment_id,
            run_name=f"{report.task}-round-{report.round}",
            tags=tracking.safe(tags),
        ) as run,
        tracking.killed_on_interrupt(),
    ):
        report.run_id = run.info.run_id
        mlflow.log_params(tracking.safe(params))
        scores = [c.score for c in report.chosen]
        mlflow.log_metrics(
            {
                "round": report.round,
                "pool": len(report.pool.tasks),
                "labelled": report.pool.labelled,
                "queued": report.pool.queued,
                "near_duplicates_left_out": report.pool.near_duplicates,
                "score_max": max(scores),
                "score_min": min(scores),
                **(
                    {"stop_kappa": report.signal.kappas[-1]} if report.signal and report.signal.kappas else {}
                ),
            }
        )
        mlflow.log_dict([c.__dict__ for c in report.chosen], "al_round/chosen.json")
        mlflow.log_dict(
            {
                "model_version": loaded.version,
                "predictions": {k: list(v) for k, v in stop_predictions.items()},
            },
            "al_round/stop_sample.json",
        )
        for project in projects:
            pushed = push(conn, project, tasks, predictions, settings=settings)
            report.pushed[project.title] = pushed
            if on_push:
                on_push(project, pushed)
        mlflow.log_metric("pushed", sum(p.added for p in report.pushed.values()))


def _experiment(loaded: LoadedModel, task: str, settings: Settings) -> str:
    """The experiment of the model's own run (rounds beside the models), else ``<task>-active-learning``."""
    import mlflow

    if loaded.run_id:
        try:
            return mlflow.get_run(loaded.run_id).info.experiment_id
        except Exception:  # a model whose run is gone still gets its rounds logged
            pass
    return tracking.ensure_experiment(f"{task}-active-learning", settings)


@dataclass(frozen=True)
class _Past:
    """A round as its MLflow run recorded it."""

    run_id: str
    round: int
    model_version: str
    labelled: int
    snapshot: Snapshot | None
    model_run_id: str = ""
    #: kappa with the previous model's predictions on the stop sample (None: no comparison)
    kappa: float | None = None


def previous_rounds(task: str, settings: Settings) -> list[_Past]:
    """The finished rounds of ``task`` for these projects (the project prefix), oldest first."""
    import mlflow

    tracking.connect(settings)
    runs = mlflow.search_runs(
        search_all_experiments=True,
        filter_string=(
            f"tags.`{tracking.KIND_TAG}` = '{KIND}' and tags.`newslab.task` = '{task}' "
            f"and tags.`newslab.al.prefix` = '{settings.ls_project_prefix}' "
            "and attributes.status = 'FINISHED'"
        ),
        order_by=["attributes.start_time ASC"],
        output_format="list",
    )
    out = []
    client = mlflow.MlflowClient()
    for number, run in enumerate(runs, start=1):
        with tempfile.TemporaryDirectory() as tmp:
            path = client.download_artifacts(run.info.run_id, "al_round/stop_sample.json", tmp)
            stored = json.loads(Path(path).read_text(encoding="utf-8"))
        version = run.data.params.get("model_version", "")
        predictions = {k: tuple(v) for k, v in stored["predictions"].items()}
        metrics = run.data.metrics
        snapshot = Snapshot(number, version, predictions)
        model_run = run.data.params.get("model_run_id", "")
        kappa = metrics.get("stop_kappa")
        out.append(
            _Past(
                run.info.run_id, number, version, int(metrics.get("labelled", 0)), snapshot, model_run, kappa
            )
        )
    return out


def curve(rounds: list[_Past]) -> list[CurvePoint]:
    """The learning curve so far: each round's labelled items and its model's validation score."""
    import mlflow

    client = mlflow.MlflowClient()
    cache: dict[str, tuple[int | None, float | None, str]] = {}
    points = []
    for r in rounds:
        if r.model_run_id not in cache:
            cache[r.model_run_id] = _model_figures(client, r.model_run_id)
        trained_on, value, metric = cache[r.model_run_id]
        points.append(CurvePoint(r.round, r.labelled, r.model_version, trained_on, value, metric, r.kappa))
    return points


def _model_figures(client, model_run: str) -> tuple[int | None, float | None, str]:  # type: ignore[no-untyped-def]
    """The training size and validation score of a round's model (from its training run)."""
    if not model_run:
        return None, None, ""
    try:
        run = client.get_run(model_run)
    except Exception:  # the model's run was deleted: the round still shows
        return None, None, ""
    size = run.data.params.get("dataset.train_size")
    selection = {k: v for k, v in run.data.metrics.items() if k.startswith(SELECTION_PREFIX)}
    metric, value = next(iter(sorted(selection.items())), ("", None))
    return (int(size) if size else None), value, metric.removeprefix(SELECTION_PREFIX)
