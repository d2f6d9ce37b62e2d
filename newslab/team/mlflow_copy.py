"""Copy a newslab MLflow store (runs, logged models, registered models) to another store.

Why: a team that moves from the embedded store (a SQLite file beside its data) to a shared MLflow
server keeps its history: the trained runs, the models they logged, the registered versions and
the aliases (``champion``) by which newslab loads a model. Everything goes through MLflow's
public client, so either end can be any store MLflow speaks (SQLite, a database, an http server
serving its artifacts); ids change on the way, so every link (parent run, a run's model output,
a version's source) is rewritten to the destination's ids.

The copy is idempotent and resumable: a copied run or model carries the id it came from
(``MIGRATED_FROM``) and, once all of it is written, ``MIGRATED`` = ``complete``. A re-run skips
what is complete and deletes and redoes what is not, so a copy cut short is finished by running
it again. ``fingerprint`` hashes an id-free form of a store: equal hashes on both ends say that
nothing was lost.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import tracking
from core.errors import NewslabError
from core.redact import redact

#: the id of the source run (or logged model, or ``name/version``) a copy was made from
MIGRATED_FROM = "newslab.migrated_from"
#: set last, once a copied run or model is whole; one without it is redone by the next copy
MIGRATED = "newslab.migrated"
COMPLETE = "complete"
#: the prefix of both marks, left out of what is compared
_MARKS = "newslab.migrated"
PARENT_TAG = "mlflow.parentRunId"
#: system tags holding ids, which differ from store to store (left out of the fingerprint)
ID_TAGS = frozenset({PARENT_TAG, "mlflow.rootRunId", "mlflow.log-model.history"})
#: MLflow's limits on one log_batch
MAX_METRICS, MAX_PARAMS = 1000, 100

Progress = Callable[[str], None]


@dataclass(frozen=True)
class StoreFingerprint:
    """What a store holds, in counts, and a sha256 of it without ids (equal across stores)."""

    experiments: int
    runs: int
    params: int
    metric_points: int
    logged_models: int
    registered_models: int
    versions: int
    aliases: int
    sha256: str


@dataclass
class CopyReport:
    """Both ends' fingerprints and what ``copy_tracking`` did."""

    source: StoreFingerprint
    destination: StoreFingerprint
    runs_copied: int = 0
    runs_skipped: int = 0
    runs_redone: int = 0
    models_copied: int = 0
    models_skipped: int = 0
    versions_copied: int = 0
    versions_skipped: int = 0
    aliases_set: int = 0
    registered_models_rebuilt: int = 0

    @property
    def lossless(self) -> bool:
        """The destination holds all the source holds (the "nothing lost" check)."""
        return self.source.sha256 == self.destination.sha256


@dataclass
class _State:
    """Source id -> destination id, for runs and logged models, and the running counts."""

    runs: dict[str, str] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    on_item: Progress | None = None

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n


# --- opening the two ends -------------------------------------------------------------------


def _unreachable(role: str, uri: str, why: str) -> NewslabError:
    return NewslabError(
        f"The {f'{role} ' if role else ''}MLflow store {redact(uri)} cannot be used ({why}).",
        "Check the URI, that the server or database is up, and its credentials "
        "(MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD for a server).",
    )


def _open(uri: str, role: str = "", *, create: bool = False) -> Any:
    """A client on ``uri`` that has answered once; a clear NewslabError when it cannot be reached.
    A SQLite store that is read must exist (opening one would create an empty store); the
    destination's is created, under its lock, when new."""
    from mlflow import MlflowClient

    path = tracking.sqlite_path(uri) if uri.startswith("sqlite:///") else None
    if not create and path is not None and not path.is_file():
        raise _unreachable(role, uri, f"no database file {path}")
    try:
        tracking.check_server(uri)
        if create and path is not None:
            tracking.create_store(uri)  # a new SQLite store is created under its lock
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        client.search_experiments(max_results=1)
    except NewslabError as exc:
        raise _unreachable(role, uri, redact(exc.message)) from None
    except Exception as exc:  # MlflowException, a driver error, an http error
        raise _unreachable(role, uri, tracking.first_line(exc)) from None
    return client


# --- reading a store ------------------------------------------------------------------------


def _pages(search: Callable[..., Any], *args: Any, **kwargs: Any) -> Iterator[Any]:
    """Every item of a paged MLflow search."""
    token = None
    while True:
        page = search(*args, page_token=token, **kwargs)
        yield from page
        token = page.token
        if not token:
            return


def _experiments(client: Any) -> list[Any]:
    return list(_pages(client.search_experiments))


def _runs(client: Any, experiment_id: str) -> list[Any]:
    return list(_pages(client.search_runs, [experiment_id], max_results=1000))


def _logged_models(client: Any, experiment_id: str) -> list[Any]:
    return list(_pages(client.search_logged_models, [experiment_id]))


def _registered_models(client: Any) -> list[Any]:
    return list(_pages(client.search_registered_models))


def _versions(client: Any, name: str) -> list[Any]:
    quoted = name.replace("'", "\\'")
    found = _pages(client.search_model_versions, f"name = '{quoted}'")
    return sorted(found, key=lambda v: int(v.version))


def _history(client: Any, run: Any) -> dict[str, list[Any]]:
    """Every metric's full history (``run.data.metrics`` holds only the last value)."""
    return {key: client.get_metric_history(run.info.run_id, key) for key in sorted(run.data.metrics)}


def _user_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tags without our migration marks."""
    return {k: v for k, v in tags.items() if not k.startswith(_MARKS)}


def _comparable_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tags that must be equal in a copy: no migration marks, no tags holding ids."""
    return {k: v for k, v in _user_tags(tags).items() if k not in ID_TAGS}


# --- fingerprint ----------------------------------------------------------------------------


def _artifact_files(client: Any, run_id: str, path: str | None = None) -> list[list[Any]]:
    """(path, size) of every artifact of a run."""
    files: list[list[Any]] = []
    for info in client.list_artifacts(run_id, path):
        if info.is_dir:
            files += _artifact_files(client, run_id, info.path)
        else:
            files.append([info.path, info.file_size])
    return files


def _datasets(run: Any) -> list[list[Any]]:
    """(name, digest, source, input tags) of each dataset a run read."""
    inputs = run.inputs.dataset_inputs if run.inputs else []
    return sorted(
        [i.dataset.name, i.dataset.digest, i.dataset.source, sorted((t.key, t.value) for t in i.tags)]
        for i in inputs
    )


def _run_form(client: Any, run: Any, names: dict[str, str]) -> dict[str, Any]:
    history = _history(client, run)
    return {
        "name": run.info.run_name,
        "status": run.info.status,
        "start": run.info.start_time,
        "end": run.info.end_time,
        "parent": names.get(run.data.tags.get(PARENT_TAG, ""), ""),
        "params": dict(sorted(run.data.params.items())),
        "metrics": {k: sorted([m.step, m.timestamp, m.value] for m in h) for k, h in history.items()},
        "tags": dict(sorted(_comparable_tags(run.data.tags).items())),
        "artifacts": sorted(_artifact_files(client, run.info.run_id)),
        "datasets": _datasets(run),
        "model_outputs": len(run.outputs.model_outputs) if run.outputs else 0,
    }


def _model_form(model: Any, names: dict[str, str]) -> dict[str, Any]:
    return {
        "name": model.name,
        "run": names.get(model.source_run_id or "", ""),
        "status": str(model.status),
        "type": model.model_type or "",  # a server says "" where SQLite says None
        "params": dict(sorted((model.params or {}).items())),
        "tags": dict(sorted(_comparable_tags(model.tags or {}).items())),
        "metrics": sorted(
            [m.key, m.step, m.timestamp, m.value, m.dataset_name or "", m.dataset_digest or ""]
            for m in model.metrics or []
        ),
    }


def _link(client: Any, version: Any) -> list[str]:
    """What a version points at, without ids: its run's name and its logged model's name and
    status ("missing" for one deleted since: a version that would not load)."""
    from mlflow.exceptions import MlflowException

    run_name, model = "", ""
    try:
        if version.run_id:
            run_name = client.get_run(version.run_id).info.run_name
        model_id = getattr(version, "model_id", None) or _model_id_of(version.source or "")
        if model_id:
            found = client.get_logged_model(model_id)
            model = f"{found.name}:{found.status}"
    except MlflowException:
        model = "missing"
    return [run_name, model]


def _registered_form(client: Any, model: Any) -> dict[str, Any]:
    versions = _versions(client, model.name)
    return {
        "name": model.name,
        "description": model.description or "",
        "tags": dict(sorted(_user_tags(model.tags or {}).items())),
        "versions": [
            {
                "version": int(v.version),
                "description": v.description or "",
                "tags": _user_tags(v.tags or {}),
                "link": _link(client, v),
            }
            for v in versions
        ],
        "aliases": {a: int(v) for a, v in sorted((model.aliases or {}).items())},
    }


def _canonical(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Id-free items in an order that does not depend on ids or creation order."""
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=str))


def fingerprint(
    uri: str,
    *,
    experiments: Iterable[str] | None = None,
    registered_models: Iterable[str] | None = None,
    copies_only: bool = False,
) -> StoreFingerprint:
    """Counts and an id-free sha256 of the store at ``uri``, over the named experiments and
    registered models only when given, and over copied runs and models only with ``copies_only``
    (a team server whose experiments of the same names hold runs made there, before or since)."""
    tracking.quiet()
    client = _open(uri)
    wanted = set(experiments) if experiments is not None else None
    form: dict[str, Any] = {"experiments": [], "registered_models": []}
    counts = dict.fromkeys(("experiments", "runs", "params", "metric_points", "logged_models"), 0)
    for experiment in _experiments(client):
        if wanted is not None and experiment.name not in wanted:
            continue
        runs = _runs(client, experiment.experiment_id)
        models = _logged_models(client, experiment.experiment_id)
        if copies_only:
            runs = [r for r in runs if MIGRATED_FROM in r.data.tags]
            models = [m for m in models if MIGRATED_FROM in (m.tags or {})]
        names = {r.info.run_id: r.info.run_name for r in runs}
        run_forms = _canonical(_run_form(client, r, names) for r in runs)
        form["experiments"].append(
            {
                "name": experiment.name,
                "tags": dict(sorted(_user_tags(experiment.tags or {}).items())),
                "runs": run_forms,
                "models": _canonical(_model_form(m, names) for m in models),
            }
        )
        counts["experiments"] += 1
        counts["runs"] += len(runs)
        counts["params"] += sum(len(r["params"]) for r in run_forms)
        counts["metric_points"] += sum(len(h) for r in run_forms for h in r["metrics"].values())
        counts["logged_models"] += len(models)
    keep = set(registered_models) if registered_models is not None else None
    for model in _registered_models(client):
        if keep is None or model.name in keep:
            form["registered_models"].append(_registered_form(client, model))
    form["experiments"].sort(key=lambda e: e["name"])
    form["registered_models"].sort(key=lambda m: m["name"])
    text = json.dumps(form, sort_keys=True, default=str)
    return StoreFingerprint(
        **counts,
        registered_models=len(form["registered_models"]),
        versions=sum(len(m["versions"]) for m in form["registered_models"]),
        aliases=sum(len(m["aliases"]) for m in form["registered_models"]),
        sha256=hashlib.sha256(text.encode()).hexdigest(),
    )


# --- copying runs and logged models ---------------------------------------------------------


def _artifact_location(dest_uri: str, name: str) -> str | None:
    """Where a new experiment's artifacts go: beside a SQLite store, as newslab lays out its own
    (``DATA/mlflow.db``, ``DATA/mlartifacts/<experiment>``); the server's choice otherwise."""
    path = tracking.sqlite_path(dest_uri) if dest_uri.startswith("sqlite:///") else None
    if path is None:
        return None
    return (path.resolve().parent / "mlartifacts" / name).as_uri()


def _ensure_experiment(dst: Any, dest_uri: str, experiment: Any) -> str:
    found = dst.get_experiment_by_name(experiment.name)
    if found is not None:
        for key, value in _user_tags(experiment.tags or {}).items():
            if found.tags.get(key) != value:
                dst.set_experiment_tag(found.experiment_id, key, value)
        return found.experiment_id
    return dst.create_experiment(
        experiment.name,
        artifact_location=_artifact_location(dest_uri, experiment.name),
        tags=_user_tags(experiment.tags or {}),
    )


def _parents_first(runs: list[Any]) -> list[Any]:
    """Runs ordered so that a parent comes before its children (its new id is needed first)."""
    by_id = {r.info.run_id: r for r in runs}
    ordered: list[Any] = []
    seen: set[str] = set()

    def visit(run: Any) -> None:
        if run.info.run_id in seen:
            return
        seen.add(run.info.run_id)
        parent = by_id.get(run.data.tags.get(PARENT_TAG, ""))
        if parent is not None:
            visit(parent)
        ordered.append(run)

    for run in sorted(runs, key=lambda r: (r.info.start_time or 0, r.info.run_id)):
        visit(run)
    return ordered


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _model_links(run: Any, models: list[Any], state: _State) -> dict[tuple[Any, ...], Any]:
    """The run's metric points that MLflow also recorded on a logged model (it links what is
    logged while a model is active), by (key, step, timestamp, value), with the copied model."""
    links = {}
    for model in models:
        for m in model.metrics or []:
            if m.run_id == run.info.run_id and model.model_id in state.models:
                links[(m.key, m.step, m.timestamp, m.value)] = (state.models[model.model_id], m)
    return links


def _point(metric: Any, links: dict[tuple[Any, ...], Any]) -> Any:
    """A metric point for the copy; one linked to a model stays linked (to the copied model), so
    log_batch writes it to the run and to the model, as MLflow did in the source."""
    from mlflow.entities import Metric

    linked = links.get((metric.key, metric.step, metric.timestamp, metric.value))
    if linked is None:
        return Metric(metric.key, metric.value, metric.timestamp, metric.step)
    model_id, source = linked
    return Metric(
        metric.key,
        metric.value,
        metric.timestamp,
        metric.step,
        model_id=model_id,
        dataset_name=source.dataset_name,
        dataset_digest=source.dataset_digest,
    )


def _copy_params_and_history(
    src: Any, dst: Any, run: Any, new_id: str, links: dict[tuple[Any, ...], Any]
) -> None:
    """Params in batches of MLflow's limit, and every point of every metric's history."""
    from mlflow.entities import Param

    params = [Param(k, v) for k, v in run.data.params.items()]
    for chunk in _chunks(params, MAX_PARAMS):
        dst.log_batch(new_id, params=chunk, synchronous=True)
    points = [_point(m, links) for history in _history(src, run).values() for m in history]
    for chunk in _chunks(points, MAX_METRICS):
        dst.log_batch(new_id, metrics=chunk, synchronous=True)


def _copy_inputs(dst: Any, run: Any, new_id: str, state: _State) -> None:
    """The run's datasets, and the logged models it read (those already copied)."""
    from mlflow.entities import LoggedModelInput

    inputs = run.inputs
    if inputs is None:
        return
    datasets = list(inputs.dataset_inputs or [])
    models = [
        LoggedModelInput(state.models[m.model_id])
        for m in (getattr(inputs, "model_inputs", None) or [])
        if m.model_id in state.models
    ]
    if datasets or models:
        dst.log_inputs(new_id, datasets=datasets or None, models=models or None)


def _copy_run_artifacts(src: Any, dst: Any, old_id: str, new_id: str) -> None:
    if not src.list_artifacts(old_id):
        return
    with tempfile.TemporaryDirectory(prefix="newslab-mlflow-copy-") as tmp:
        local = src.download_artifacts(old_id, "", tmp)
        dst.log_artifacts(new_id, local)


def _retarget_mlmodel(folder: Path, model_id: str, run_id: str | None) -> None:
    """Point a copied model's MLmodel file at its new logged model and run ids."""
    from mlflow.models import Model

    path = folder / "MLmodel"
    if not path.is_file():
        return
    model = Model.load(str(path))
    model.model_id = model_id
    if run_id is not None:
        model.run_id = run_id
    model.save(str(path))


def _create_model(dst: Any, model: Any, experiment_id: str, run_id: str | None) -> Any:
    tags = {**_user_tags(model.tags or {}), MIGRATED_FROM: model.model_id}
    return dst.create_logged_model(
        experiment_id,
        name=model.name,
        source_run_id=run_id,
        tags=tags,
        params=dict(model.params or {}) or None,
        model_type=model.model_type,
    )


def _fill_model(source_uri: str, dst: Any, model: Any, new: Any) -> None:
    """Upload the model's files (MLmodel retargeted), give it the source's status, mark it whole."""
    import mlflow
    from mlflow.entities import LoggedModelStatus

    with tempfile.TemporaryDirectory(prefix="newslab-mlflow-copy-") as tmp:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=model.artifact_location, dst_path=tmp, tracking_uri=source_uri
        )
        _retarget_mlmodel(Path(local), new.model_id, new.source_run_id)
        dst.log_model_artifacts(new.model_id, local)
    if model.status in (LoggedModelStatus.READY, LoggedModelStatus.FAILED):
        dst.finalize_logged_model(new.model_id, model.status)
    dst.set_logged_model_tags(new.model_id, {MIGRATED: COMPLETE})


def _copy_model(
    source_uri: str, dst: Any, model: Any, experiment_id: str, run_id: str | None, state: _State
) -> None:
    new = _create_model(dst, model, experiment_id, run_id)
    state.models[model.model_id] = new.model_id
    _fill_model(source_uri, dst, model, new)
    state.count("models_copied")


def _copy_outputs(dst: Any, run: Any, new_id: str, state: _State) -> None:
    """The run -> model links newslab reads (``tracking.model_ready``), to the copied models."""
    from mlflow.entities import LoggedModelOutput

    outputs = run.outputs.model_outputs if run.outputs else []
    links = [
        LoggedModelOutput(state.models[o.model_id], o.step) for o in outputs if o.model_id in state.models
    ]
    if links:
        dst.log_outputs(new_id, links)


def _rewrite_id_tags(dst: Any, run: Any, new_id: str, state: _State) -> None:
    """System tags quoting ids (the model log history) rewritten to the destination's ids."""
    ids = {**state.runs, **state.models}
    for key in ID_TAGS - {PARENT_TAG}:
        text = run.data.tags.get(key)
        if not text:
            continue
        new_text = text
        for old, new in ids.items():
            new_text = new_text.replace(old, new)
        if new_text != text:
            dst.set_tag(new_id, key, new_text)


def _terminate(dst: Any, run: Any, new_id: str) -> None:
    """The source's status and end time (a RUNNING run stays running)."""
    status, end = run.info.status, run.info.end_time
    if status == "RUNNING":
        return
    if end:
        dst.set_terminated(new_id, status, end_time=end)
    else:
        dst.update_run(new_id, status=status)


def _run_tags(run: Any, state: _State) -> dict[str, str]:
    tags = _user_tags(run.data.tags)
    parent = tags.get(PARENT_TAG)
    if parent:
        if parent in state.runs:
            tags[PARENT_TAG] = state.runs[parent]
        else:  # a parent not copied (deleted, or in another store): no dangling id
            del tags[PARENT_TAG]
    return {**tags, MIGRATED_FROM: run.info.run_id}


def _copy_run(
    source_uri: str,
    src: Any,
    dst: Any,
    run: Any,
    experiment_id: str,
    all_models: list[Any],
    state: _State,
) -> None:
    """One run, whole: params, history, inputs, artifacts, its logged models, their links, its
    status; ``MIGRATED`` = complete is set last, so a copy cut short is seen as incomplete."""
    models = [m for m in all_models if m.source_run_id == run.info.run_id]
    new = dst.create_run(
        experiment_id, start_time=run.info.start_time, tags=_run_tags(run, state), run_name=run.info.run_name
    )
    new_id = new.info.run_id
    state.runs[run.info.run_id] = new_id
    created = {m.model_id: _create_model(dst, m, experiment_id, new_id) for m in models}
    state.models.update({old: m.model_id for old, m in created.items()})
    _copy_params_and_history(src, dst, run, new_id, _model_links(run, all_models, state))
    _copy_inputs(dst, run, new_id, state)
    _copy_run_artifacts(src, dst, run.info.run_id, new_id)
    for model in models:
        _fill_model(source_uri, dst, model, created[model.model_id])
        state.count("models_copied")
    _copy_outputs(dst, run, new_id, state)
    _rewrite_id_tags(dst, run, new_id, state)
    _terminate(dst, run, new_id)
    dst.set_tag(new_id, MIGRATED, COMPLETE)


def _migrated(items: Iterable[Any], tags_of: Callable[[Any], dict[str, str]]) -> dict[str, Any]:
    """Destination items by the source id they were copied from."""
    return {tags_of(i)[MIGRATED_FROM]: i for i in items if MIGRATED_FROM in tags_of(i)}


def _discard(dst: Any, found: Any | None, own: list[Any], dest_models: dict[str, Any]) -> None:
    """Delete an incomplete copy of a run (if any) and every copy of its models (made with it, or
    left by a copied run deleted since), before the run is copied again."""
    for model in own:
        copy = dest_models.pop(model.model_id, None)
        if copy is not None:
            dst.delete_logged_model(copy.model_id)
    if found is not None:
        dst.delete_run(found.info.run_id)


def _complete(tags: dict[str, str]) -> bool:
    return tags.get(MIGRATED) == COMPLETE


def _reuse(run: Any, found: Any, own: list[Any], dest_models: dict[str, Any], state: _State) -> None:
    """Take a complete copy of a run (and of its models) as it is."""
    state.runs[run.info.run_id] = found.info.run_id
    for model in own:
        if model.model_id in dest_models:
            state.models[model.model_id] = dest_models[model.model_id].model_id
    state.count("runs_skipped")
    state.count("models_skipped", len(own))


def _copy_experiment(
    source_uri: str, src: Any, dst: Any, dest_uri: str, experiment: Any, state: _State
) -> None:
    """An experiment's runs, parents first, each copied whole or skipped when complete, then its
    logged models of no run."""
    experiment_id = _ensure_experiment(dst, dest_uri, experiment)
    done = _migrated(_runs(dst, experiment_id), lambda r: r.data.tags)
    dest_models = _migrated(_logged_models(dst, experiment_id), lambda m: m.tags or {})
    models = _logged_models(src, experiment.experiment_id)
    runs = _parents_first(_runs(src, experiment.experiment_id))
    for run in runs:
        old_id = run.info.run_id
        found = done.get(old_id)
        own = [m for m in models if m.source_run_id == old_id]
        if found is not None and _complete(found.data.tags):
            _reuse(run, found, own, dest_models, state)
            _report(state, f"{experiment.name}/{run.info.run_name}: already copied")
            continue
        _discard(dst, found, own, dest_models)
        state.count("runs_copied")
        state.count("runs_redone", int(found is not None))
        _copy_run(source_uri, src, dst, run, experiment_id, models, state)
        _report(state, f"{experiment.name}/{run.info.run_name}: copied")
    _copy_loose_models(source_uri, dst, models, experiment_id, dest_models, state)


def _copy_loose_models(
    source_uri: str,
    dst: Any,
    models: list[Any],
    experiment_id: str,
    dest_models: dict[str, Any],
    state: _State,
) -> None:
    """Logged models of no copied run (none, or one deleted): copied on their own."""
    for model in models:
        if model.model_id in state.models:
            continue
        found = dest_models.get(model.model_id)
        if found is not None and _complete(found.tags or {}):
            state.models[model.model_id] = found.model_id
            state.count("models_skipped")
            continue
        if found is not None:
            dst.delete_logged_model(found.model_id)
        run_id = state.runs.get(model.source_run_id or "")
        _copy_model(source_uri, dst, model, experiment_id, run_id, state)


def _report(state: _State, text: str) -> None:
    if state.on_item is not None:
        state.on_item(text)


# --- registered models ----------------------------------------------------------------------


def _ensure_registered(dst: Any, model: Any) -> None:
    from mlflow.exceptions import MlflowException

    tags = _user_tags(model.tags or {})
    try:
        found = dst.get_registered_model(model.name)
    except MlflowException:
        dst.create_registered_model(model.name, tags=tags, description=model.description)
        return
    for key, value in tags.items():
        if (found.tags or {}).get(key) != value:
            dst.set_registered_model_tag(model.name, key, value)
    if (model.description or "") != (found.description or ""):
        dst.update_registered_model(model.name, description=model.description)


def _model_id_of(source: str) -> str | None:
    """The logged model id of a ``models:/<id>`` source (MLflow 3 leaves a version's model_id
    empty in some stores), None for ``models:/name/version`` or any other source."""
    rest = source.removeprefix("models:/")
    return rest if rest != source and rest.startswith("m-") and "/" not in rest else None


def _version_source(
    src_version: Any, src: Any, dst: Any, state: _State
) -> tuple[str, str | None, str | None]:
    """(source, run id, model id) of a version's copy: its copied logged model when it has one,
    else its source path moved from the old run to the new one."""
    model_id = getattr(src_version, "model_id", None) or _model_id_of(src_version.source or "")
    run_id = state.runs.get(src_version.run_id or "")
    if model_id and model_id in state.models:
        new_model = state.models[model_id]
        return f"models:/{new_model}", run_id, new_model
    source = src_version.source
    old_run = src_version.run_id
    if old_run and run_id:
        if source.startswith(f"runs:/{old_run}/"):
            return source.replace(old_run, run_id, 1), run_id, None
        old_root = src.get_run(old_run).info.artifact_uri
        if source.startswith(old_root):
            return dst.get_run(run_id).info.artifact_uri + source[len(old_root) :], run_id, None
    return source, run_id, None


def _copied_versions(dst: Any, name: str) -> dict[str, Any]:
    """The destination's versions of a model by the ``name/version`` they were copied from."""
    return _migrated(_versions(dst, name), lambda v: v.tags or {})


def _stale(src: Any, dst: Any, model: Any, state: _State) -> bool:
    """Whether a copied version points elsewhere than its source now maps to (its run was
    copied again since, e.g. after the destination's copy of the run was deleted)."""
    done = _copied_versions(dst, model.name)
    for version in _versions(src, model.name):
        copy = done.get(f"{model.name}/{version.version}")
        if copy is not None and (copy.source, copy.run_id) != _version_source(version, src, dst, state)[:2]:
            return True
    return False


def _copy_versions(src: Any, dst: Any, model: Any, state: _State) -> dict[str, str]:
    """Every version, in order; returns source version -> destination version."""
    key = f"{model.name}/"
    done = _copied_versions(dst, model.name)
    numbers: dict[str, str] = {}
    for version in _versions(src, model.name):
        origin = key + str(version.version)
        if origin in done:
            numbers[str(version.version)] = str(done[origin].version)
            state.count("versions_skipped")
            continue
        source, run_id, model_id = _version_source(version, src, dst, state)
        created = dst.create_model_version(
            model.name,
            source,
            run_id=run_id,
            tags={**_user_tags(version.tags or {}), MIGRATED_FROM: origin},
            description=version.description,
            model_id=model_id,
        )
        numbers[str(version.version)] = str(created.version)
        state.count("versions_copied")
    return numbers


@contextmanager
def _global_uri(uri: str) -> Iterator[None]:
    """MLflow's SQL registry resolves a ``models:/<id>`` version source through the *global*
    tracking URI, not its client's (a TODO in its code): point it at the destination meanwhile."""
    from mlflow.tracking._tracking_service.utils import _use_tracking_uri

    with _use_tracking_uri(uri):
        yield


def _copy_registered(src: Any, dst: Any, dest_uri: str, state: _State) -> list[str]:
    names = []
    with _global_uri(dest_uri):
        for model in _registered_models(src):
            names.append(_copy_registered_model(src, dst, model, state))
    return names


def _copy_registered_model(src: Any, dst: Any, model: Any, state: _State) -> str:
    """A registered model, its versions in order, then its aliases (which name versions)."""
    if _stale(src, dst, model, state):  # versions cannot be re-pointed: the model is registered anew
        dst.delete_registered_model(model.name)
        state.count("registered_models_rebuilt")
    _ensure_registered(dst, model)
    numbers = _copy_versions(src, dst, model, state)
    for alias, version in (model.aliases or {}).items():
        dst.set_registered_model_alias(model.name, alias, numbers[str(version)])
        state.count("aliases_set")
    return model.name


# --- the whole copy -------------------------------------------------------------------------


def copy_tracking(source_uri: str, dest_uri: str, *, on_item: Progress | None = None) -> CopyReport:
    """Copy every experiment, run, logged model and registered model of ``source_uri`` into
    ``dest_uri``; what an earlier copy finished is skipped. ``on_item`` hears of each run
    (copied or skipped), for a progress bar whose total is ``fingerprint(source).runs``."""
    tracking.quiet()
    src = _open(source_uri, "source")
    dst = _open(dest_uri, "destination", create=True)
    state = _State(on_item=on_item)
    experiments = _experiments(src)
    for experiment in experiments:
        _copy_experiment(source_uri, src, dst, dest_uri, experiment, state)
    registered = _copy_registered(src, dst, dest_uri, state)
    names = [e.name for e in experiments]
    return CopyReport(
        source=fingerprint(source_uri),
        destination=fingerprint(dest_uri, experiments=names, registered_models=registered, copies_only=True),
        **state.counts,
    )
