"""A config's ``model`` section to an unfitted estimator, through the family registry.

Every model takes a pandas DataFrame of its input columns (``text``, and ``target`` for
pair models) and predicts label codes of the schema.
"""

from __future__ import annotations

from typing import Any

from core.schema import Task
from training import registry
from training.config import ModelConfig


def input_columns(model: ModelConfig) -> list[str]:
    """The dataset columns a model reads."""
    return registry.get(model.type).columns(model.params)


def build_model(model: ModelConfig, task: Task, seed: int, lang: str = "en") -> Any:
    """The family's estimator; what the task or the settings make impossible is refused here,
    before anything trains. ``lang`` is the training data's language (spaCy, stop words)."""
    return registry.get(model.type).build(model, task, seed, lang)
