"""The main job: assets -> datasets -> training -> evaluation -> results table.

A training step is skipped when a finished, evaluated run of the same key exists: the key
hashes what a trained model is a function of (the validated experiment config, the dataset
fingerprint, the schema fingerprint and the code of the packages that train and score it),
so a second `newslab run` with nothing changed trains nothing. ``force`` retrains anyway.

Data that cannot be had here (an asset with no public source and no mirror, the network down)
does not stop the job: the experiments that need it are skipped, the others run, and the
outcome names both (``RunOutcome.notes``).
"""

from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from rich.markup import escape

from core import tracking
from core.assets import fetch_available
from core.console import err_console
from core.errors import NewslabError, Unavailable
from core.schema import load_schema
from core.settings import Settings, get_settings
from core.yamlio import load_model
from dataset.build import BuiltDataset, build, dataset_path, read_meta
from dataset.config import config_of, load_dataset_config
from eval.evaluate import PREFIX, evaluate_run
from eval.results import ResultRow, latest_runs, with_published
from training.config import ExperimentConfig, load_experiment
from training.train import TrainResult, train

#: the packages whose code decides a trained model and its test metrics (part of the run key)
MODEL_PACKAGES = ("core", "newslab_model", "dataset", "training", "eval")


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    experiments: tuple[str, ...] = Field(min_length=1)


@dataclass(frozen=True)
class RunOutcome:
    datasets: list[BuiltDataset]
    trained: list[TrainResult]  #: trained by this call
    results: list[ResultRow]
    reused: list[str] = field(default_factory=list)  #: ids of the runs found done and not retrained
    #: asset (or dataset) -> why it could not be had here
    unavailable: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  #: experiments not run for want of data
    ran: list[str] = field(default_factory=list)  #: experiments trained or reused

    @property
    def notes(self) -> list[str]:
        """What the job could not do, and what it did, in a few lines (none when it did everything)."""
        if not self.unavailable:
            return []
        lines = ["could not get here:"]
        lines += [f"  {name}: {why.splitlines()[0]}" for name, why in self.unavailable.items()]
        if self.skipped:
            lines.append(f"not run for want of data: {', '.join(self.skipped)}")
        lines.append(f"run: {', '.join(self.ran) if self.ran else 'none'}")
        lines.append("Point NEWSLAB_MIRROR_DIR at a copy of the data, or run where the upstream URLs answer.")
        return lines


def code_version() -> str:
    """A hash of the sources of ``MODEL_PACKAGES`` (a dirty tree counts, unlike a git commit)."""
    folders = [Path(str(importlib.import_module(name).__file__)).parent for name in MODEL_PACKAGES]
    return tracking.code_version(folders)


def run_key(config: ExperimentConfig, dataset_fingerprint: str, schema_fingerprint: str, code: str) -> str:
    """The key of a training step: equal keys train the same model (the seed is in the config)."""
    parts = {
        "config": config.model_dump(mode="json"),
        "dataset": dataset_fingerprint,
        "schema": schema_fingerprint,
        "code": code,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def find_done(key: str, settings: Settings) -> str | None:
    """The newest finished run with this key that has its test metrics and a complete model, or None."""
    tracking.connect(settings)
    import mlflow

    client = mlflow.MlflowClient()
    runs = mlflow.search_runs(
        search_all_experiments=True,
        filter_string=f"tags.`{tracking.RUN_KEY_TAG}` = '{key}' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        output_format="list",
    )
    done = (
        r for r in runs if any(k.startswith(PREFIX) for k in r.data.metrics) and tracking.usable(client, r)
    )
    return next((r.info.run_id for r in done), None)


def run(
    config: Path | None = None,
    limit: int | None = None,
    settings: Settings | None = None,
    force: bool = False,
) -> RunOutcome:
    """Run the main job on embedded defaults (local files and a local MLflow store).

    ``limit`` caps each split at that many items (a quick slice for tests and demos);
    ``force`` retrains experiments whose finished run would otherwise be reused.
    """
    settings = settings or get_settings()
    schema = load_schema(settings.schema_path)
    run_config = load_model(config or settings.configs_dir / "run.yaml", RunConfig)
    experiments = [load_experiment(name)[0] for name in run_config.experiments]
    # an experiment names a dataset, or one configuration of it ("pilot/events")
    dataset_configs = {
        base: load_dataset_config(base) for base in (config_of(e.dataset) for e in experiments)
    }

    say = err_console.print
    wanted = {d.asset for d in dataset_configs.values() if d.asset}
    wanted |= {a for d in dataset_configs.values() for a in d.corpus_assets}
    fetched = fetch_available(sorted(wanted), settings)
    unavailable = {**fetched.unavailable, **fetched.failed}
    say(f"[green]✓[/] assets: {len(fetched.results)} files verified in {settings.raw_dir}")
    if unavailable:
        say(f"[yellow]![/] unavailable here: {', '.join(unavailable)} (the reasons follow at the end)")
    built = {}
    for name, dataset_config in dataset_configs.items():
        if dataset_config.asset in unavailable:
            continue
        try:
            built[name] = build(name, limit=limit, schema=schema, settings=settings)
        except Unavailable as exc:  # annotations none of whose articles can be had (assets named above)
            say(f"[yellow]![/] dataset {name} not built: {escape(exc.message)}")
            continue
        except NewslabError as exc:  # refused data: its experiments are skipped, the error named at the end
            unavailable[f"dataset {name}"] = exc.message
            say(f"[red]✗[/] dataset {name} not built: {escape(exc.message)}")
            continue
        b = built[name]
        sizes = ", ".join(f"{k} {v:,}" for k, v in b.counts.items())
        say(f"[green]✓[/] dataset {b.path.name}: {sizes} ({'built' if b.written else 'unchanged'})")
    code = code_version()
    if not force:
        tracking.connect(settings)
        tracking.reap()  # once: a run killed mid-logging is FAILED, never reused
    trained, reused, run_ids, skipped = [], [], [], []
    for experiment, name in zip(experiments, run_config.experiments, strict=True):
        base, _, part = experiment.dataset.partition("/")
        if base not in built:
            skipped.append(name)
            say(f"[yellow]![/] {experiment.name}: skipped, its data is unavailable here")
            continue
        dataset = built[base].path.name + (f"/{part}" if part else "")
        meta = read_meta(dataset_path(dataset, settings))
        key = run_key(experiment, meta["fingerprint"], schema.fingerprint, code) if meta else None
        done = find_done(key, settings) if key and not force else None
        if done:
            reused.append(done)
            run_ids.append(done)
            say(f"[green]✓[/] {experiment.name}: unchanged, reused run {done} (--force retrains)")
            continue
        with err_console.status(f"training {experiment.name} on {dataset}"):
            result = train(name, dataset=dataset, settings=settings, schema=schema)
            evaluate_run(result.run_id, settings=settings, schema=schema)
        if key:  # only now, trained and evaluated, is the run findable as done
            from mlflow import MlflowClient

            client = MlflowClient()
            client.set_tag(result.run_id, tracking.RUN_KEY_TAG, key)
            client.set_tag(result.run_id, tracking.CODE_VERSION_TAG, code)
        trained.append(result)
        run_ids.append(result.run_id)
        say(f"[green]✓[/] trained {experiment.name} in {result.fit_seconds:.1f} s (run {result.run_id})")
    results = with_published(latest_runs(run_ids, settings=settings)) if run_ids else []
    ran = [n for n in run_config.experiments if n not in skipped]
    outcome = RunOutcome(list(built.values()), trained, results, reused, unavailable, skipped, ran)
    if not run_ids and skipped:
        raise Unavailable("\n".join(outcome.notes[:-1]), outcome.notes[-1])
    return outcome
