"""Which model a backend serves and which experiment it retrains, checked before it listens.

Everything a backend could be refused for (no such model, a model of another task or schema,
an experiment of another task) is found here, before a port is opened or anything written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core import tracking
from core.errors import NewslabError
from core.schema import Schema, load_schema
from core.settings import Settings, get_settings
from dataset.config import config_of
from eval.evaluate import CHAMPION, registered_name
from training.config import experiment_path, load_experiment
from training.loading import LoadedModel, check_serves, load

#: the dataset of our own annotations (``configs/datasets/newslab.yaml``)
DEFAULT_DATASET = "newslab"


@dataclass(frozen=True)
class Choice:
    """What a backend serves and retrains."""

    model: str  #: the model reference as given (or the champion's)
    task: str
    experiment: str  #: the experiment config path to retrain; "" when none was given
    dataset: str  #: the dataset config the experiment trains on ("pilot" for "pilot/stance")


def champion_uri(task: str, dataset: str) -> str:
    """``models:/newslab-<task>-<dataset>@champion``."""
    return f"models:/{registered_name(task, dataset)}@{CHAMPION}"


def annotated_task(schema: Schema, task: str) -> None:
    spec = schema.task(task)
    if not spec.annotate:
        annotated = ", ".join(t for t, s in schema.tasks.items() if s.annotate)
        raise NewslabError(
            f"task {task!r} is derived, not annotated in Label Studio; a backend serves one of: {annotated}."
        )


def choose(
    model: str | None = None,
    task: str | None = None,
    experiment: str | None = None,
    settings: Settings | None = None,
    schema: Schema | None = None,
    loader: Callable[[str], LoadedModel] = load,
) -> tuple[Choice, LoadedModel]:
    """The backend's model, loaded and checked to serve ``task`` with the schema's labels.

    ``model`` defaults to the champion of the experiment's task and dataset; without an experiment
    the backend serves ``model`` and cannot retrain. ``loader`` is ``training.loading.load``
    (replaced in tests)."""
    settings = settings or get_settings()
    schema = schema or load_schema(settings.schema_path)
    tracking.connect(settings)  # the store's models, and a store that is down is said here
    dataset = DEFAULT_DATASET
    path = ""
    if experiment:
        config, _ = load_experiment(experiment)
        if task and task != config.task:
            raise NewslabError(f"experiment {config.name} trains {config.task!r}, not {task!r}.")
        task = config.task
        dataset = config_of(config.dataset)
        path = str(experiment_path(experiment).resolve())
    if task:
        annotated_task(schema, task)
    if not model:
        if not task:
            raise NewslabError(
                "a backend needs a model to serve.",
                "Give --experiment EXP (its task's champion is served and EXP retrained), --task TASK "
                "(the champion of TASK on our annotations) or --model MODEL.",
            )
        model = champion_uri(task, dataset)
        try:
            loaded = loader(model)
        except NewslabError as exc:
            raise NewslabError(
                f"{exc.message} There is no champion of {task} on {dataset} yet.",
                f"Train one first (`newslab train EXPERIMENT` on {dataset}, then `newslab eval`), "
                "or give --model.",
            ) from None
    else:
        loaded = loader(model)
    task = task or loaded.card.task
    annotated_task(schema, task)
    check_serves(loaded, schema, task)
    return Choice(model, task, path, dataset), loaded


def experiment_label(path: str) -> str:
    """A short name for an experiment path (its file's stem)."""
    return Path(path).stem if path else ""
