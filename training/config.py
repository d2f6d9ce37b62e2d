"""Experiment configs: task, dataset, model and hyperparameters, validated before any training."""

from __future__ import annotations

import math
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, field_validator, model_validator

from core.errors import NewslabError
from core.settings import get_settings
from core.yamlio import load_model, read_yaml
from training import registry


def _takes_bool(annotation: Any) -> bool:
    """Whether a field's type admits a boolean (``bool``, ``Any``, a union or Literal with one)."""
    if annotation is bool or annotation is Any:
        return True
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return any(isinstance(a, bool) for a in args)
    return any(_takes_bool(a) for a in args if a is not type(None))


def strict_numbers(model: type[BaseModel], data: Any) -> Any:
    """Refuse what pydantic would coerce into a number: ``true`` (read as 1) where the field takes no
    boolean, and ``.inf`` / ``.nan`` anywhere: both trained before, with a meaningless setting."""
    if not isinstance(data, dict):
        return data
    for name, value in data.items():
        field = model.model_fields.get(name)
        if field is None:
            continue
        if isinstance(value, bool) and not _takes_bool(field.annotation):
            raise ValueError(f"{name}: {str(value).lower()} is a boolean where a number is expected")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{name}: {value} is not a finite number")
    return data


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _strict_numbers(cls, data: Any) -> Any:
        return strict_numbers(cls, data)


class _Unchecked(BaseModel):
    """The params of a model type that was refused."""


class ModelConfig(_Strict):
    """``type`` names a registered model family (``training/families/``); ``params`` are validated
    against that family's own parameters, so an unknown type or parameter is refused by name."""

    type: str
    params: SerializeAsAny[BaseModel] = Field(default=None, validate_default=True)

    @field_validator("type")
    @classmethod
    def _registered(cls, value: str) -> str:
        if value not in registry.REGISTRY:  # pydantic reports a ValueError beside the field's name
            raise ValueError(f"unknown model type {value!r}; known: {', '.join(registry.names())}")
        return value

    @field_validator("params", mode="before")
    @classmethod
    def _params_of_the_type(cls, value, info):  # type: ignore[no-untyped-def]
        kind = info.data.get("type")
        if kind is None:  # the type was refused: its error says why, none is added here
            return _Unchecked()
        params = registry.get(kind).params
        if isinstance(value, params):
            return value
        data = value.model_dump() if isinstance(value, BaseModel) else value or {}
        return params.model_validate(strict_numbers(params, data))


class SearchRange(_Strict):
    """One hyperparameter's search space: a numeric range, or a list of choices."""

    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    choices: list[str | int | float | bool | None] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SearchRange:
        if (self.choices is None) == (self.low is None or self.high is None):
            raise ValueError("give either low and high, or choices")
        return self


class SweepConfig(_Strict):
    """An Optuna search over ``model.params``, scored by cross-validation on the training split."""

    trials: int = Field(20, ge=1)
    #: the metric to maximise, as the eval stage names it (macro_f1, f_avg, fnc_score, ...)
    metric: str = "macro_f1"
    folds: int = Field(3, ge=2)
    #: Optuna storage URL shared by several machines (sqlite:///..., postgresql://...);
    #: NEWSLAB_OPTUNA_STORAGE overrides it; default: data/optuna.db
    storage: str | None = None
    space: dict[str, SearchRange]


class SelectionConfig(_Strict):
    """How a training run scores itself for champion choice without the test split: the validation
    split where the dataset has one, else ``folds``-fold grouped cross-validation of the training split."""

    folds: int = Field(3, ge=2, le=20)


class ExperimentConfig(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    task: str
    dataset: str
    description: str = ""
    model: ModelConfig
    seed: int = 0
    sweep: SweepConfig | None = None
    selection: SelectionConfig = SelectionConfig()

    @model_validator(mode="after")
    def _space_names_params(self) -> ExperimentConfig:
        if self.sweep:
            known = set(type(self.model.params).model_fields)
            unknown = sorted(set(self.sweep.space) - known)
            if unknown:
                raise ValueError(
                    f"sweep.space: {unknown[0]!r} is not a model parameter ({', '.join(sorted(known))})"
                )
        return self

    def with_params(self, params: dict) -> ExperimentConfig:
        """A copy with some model parameters replaced (validated)."""
        data = self.model_dump()
        data["model"]["params"].update(params)
        return ExperimentConfig.model_validate(data)


def experiment_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"}:
        return path
    return get_settings().configs_dir / "experiments" / f"{name_or_path}.yaml"


def load_experiment(name_or_path: str | Path) -> tuple[ExperimentConfig, dict]:
    """The validated config and the raw mapping (logged to MLflow as an artifact)."""
    path = experiment_path(name_or_path)
    if not path.exists():
        known = sorted(p.stem for p in (get_settings().configs_dir / "experiments").glob("*.yaml"))
        raise NewslabError(f"{path}: no such experiment config.", f"Known: {', '.join(known)}.")
    raw = read_yaml(path)
    return load_model(path, ExperimentConfig, raw), raw
