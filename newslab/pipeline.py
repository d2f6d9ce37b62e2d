"""The main job: assets -> datasets -> training -> evaluation -> results table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from core.assets import fetch
from core.console import err_console
from core.schema import load_schema
from core.settings import Settings, get_settings
from core.yamlio import load_model
from dataset.build import BuiltDataset, build
from dataset.config import load_dataset_config
from eval.evaluate import evaluate_run
from eval.results import ResultRow, latest_runs, with_published
from training.config import load_experiment
from training.train import TrainResult, train


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    experiments: tuple[str, ...] = Field(min_length=1)


@dataclass(frozen=True)
class RunOutcome:
    datasets: list[BuiltDataset]
    trained: list[TrainResult]
    results: list[ResultRow]


def run(config: Path | None = None, limit: int | None = None, settings: Settings | None = None) -> RunOutcome:
    """Run the main job on embedded defaults (local files and a local MLflow store).

    ``limit`` caps each split at that many items (a quick slice for tests and demos).
    """
    settings = settings or get_settings()
    schema = load_schema(settings.schema_path)
    run_config = load_model(config or settings.configs_dir / "run.yaml", RunConfig)
    experiments = [load_experiment(name)[0] for name in run_config.experiments]
    # an experiment names a dataset, or one configuration of it ("pilot/events")
    dataset_configs = {
        base: load_dataset_config(base) for base in (e.dataset.split("/")[0] for e in experiments)
    }

    say = err_console.print
    fetched = fetch(sorted({d.asset for d in dataset_configs.values() if d.asset}), settings)
    say(f"[green]✓[/] assets: {len(fetched)} files verified in {settings.raw_dir}")
    built = {}
    for name in dataset_configs:
        built[name] = build(name, limit=limit, schema=schema, settings=settings)
        b = built[name]
        sizes = ", ".join(f"{k} {v:,}" for k, v in b.counts.items())
        say(f"[green]✓[/] dataset {b.path.name}: {sizes} ({'built' if b.written else 'unchanged'})")
    trained = []
    for experiment, name in zip(experiments, run_config.experiments, strict=True):
        base, _, part = experiment.dataset.partition("/")
        dataset = built[base].path.name + (f"/{part}" if part else "")
        with err_console.status(f"training {experiment.name} on {dataset}"):
            result = train(name, dataset=dataset, settings=settings, schema=schema)
            evaluate_run(result.run_id, settings=settings, schema=schema)
        trained.append(result)
        say(f"[green]✓[/] trained {experiment.name} in {result.fit_seconds:.1f} s (run {result.run_id})")
    results = with_published(latest_runs([t.run_id for t in trained], settings=settings))
    return RunOutcome(list(built.values()), trained, results)
