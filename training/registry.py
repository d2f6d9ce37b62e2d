"""The model family registry: every ``model.type`` an experiment config can name.

A family is one module in ``training/families/`` that calls ``register``; nothing else in
newslab lists families. Config validation, the builders, the input columns, the skops trust
list, the MLflow flavour and the pip requirements all read them from here, so adding a family
touches no other file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from core.registry import Registry

if TYPE_CHECKING:
    from core.schema import Task
    from training.config import ModelConfig
    from training.flavours import Flavour


@dataclass(frozen=True)
class Family:
    """What newslab needs to know about one model family."""

    #: the ``model.type`` of the configs
    name: str
    #: the pydantic model of ``model.params`` (unknown keys refused: ``extra="forbid"``)
    params: type[BaseModel]
    #: (model config, schema task, seed, training language) -> an unfitted estimator with
    #: scikit-learn's interface, predicting the task's label codes
    build: Callable[[ModelConfig, Task, int, str], Any]
    #: the dataset columns the model reads, given its params
    columns: Callable[[Any], list[str]]
    #: how MLflow logs and loads it (``flavours.SKLEARN``: skops; ``flavours.SPACY``)
    flavour: Flavour
    #: distributions the logged model needs where it predicts, given its params (pinned when logged)
    requirements: Callable[[Any], list[str]]
    #: ``module.Class`` names of the non-scikit-learn types its fitted models hold, for skops
    trusted_types: tuple[str, ...] = ()


REGISTRY: Registry[Family] = Registry(
    "model type", "training.families", "Name one in model.type, or add a module to training/families/."
)


def register(family: Family) -> Family:
    """Add a family (a module of ``training/families`` calls this when imported)."""
    return REGISTRY.add(family.name, family, family.build.__module__)


def names() -> list[str]:
    return REGISTRY.names()


def get(name: str) -> Family:
    """The family of a ``model.type``; an unknown one is an error listing the known ones."""
    return REGISTRY.get(name)


def trusted_types() -> list[str]:
    """The union of every family's trusted types: what skops may load from a logged model."""
    return sorted({name for family in REGISTRY.all().values() for name in family.trusted_types})


def type_names(*classes: type) -> tuple[str, ...]:
    """``module.Class`` of each class, as skops names the types it stores."""
    return tuple(f"{c.__module__}.{c.__qualname__}" for c in classes)
