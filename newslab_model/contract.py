"""One input and output contract for every logged newslab model, whatever its family.

Input: a DataFrame with ``text`` (and ``target`` for pair models; ``author`` where the model
reads it), a dict of such columns, a list of strings or a single string (text-only models).
Output: a DataFrame with ``label`` (the label code; a list of codes for multi-label tasks) and
one ``proba_<code>`` column per schema label. ``predict_method="predict_proba"`` (MLflow's
``params``) returns the probability columns only.

The ``Card`` is what the model knows of itself (task, labels, inputs, schema and dataset it
was trained on); it is the logged model's ``model_config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

LABEL = "label"
PROBA = "proba_"
#: MLflow params: "predict" (label and probabilities, the default) or "predict_proba"
PREDICT_METHOD = "predict_method"
PREDICT_METHODS = ("predict", "predict_proba")
#: the Card layout; a model with another one was logged by another newslab
FORMAT = 1


class ContractError(ValueError):
    """Input the model cannot read, said in words (raised before anything is predicted)."""


@dataclass(frozen=True)
class Card:
    """What a logged model knows of itself: everything a caller checks before predicting."""

    task: str
    labels: list[str]
    multi_label: bool
    #: the input columns it needs (``target`` first for pair models, then ``text``)
    inputs: list[str]
    #: "skops" (a scikit-learn estimator) or "spacy" (a spaCy pipeline folder)
    kind: str
    #: the ``module.Class`` names skops may load (non-scikit-learn types of this model)
    trusted_types: list[str] = field(default_factory=list)
    #: read where given, else empty (e.g. ``author``)
    optional_inputs: list[str] = field(default_factory=list)
    #: schema target code -> the text the model was trained to read for it (name and aliases)
    target_texts: dict[str, str] = field(default_factory=dict)
    schema_version: str = ""
    schema_fingerprint: str = ""
    dataset: str = ""
    dataset_fingerprint: str = ""
    format: int = FORMAT

    def to_config(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> Card:
        config = dict(config or {})
        if config.get("format") != FORMAT:
            raise ContractError(
                f"the model's card has format {config.get('format')!r}, this code reads {FORMAT}: "
                "it was logged by another version of newslab."
            )
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in config.items() if k in known})

    @property
    def columns(self) -> list[str]:
        """The output columns, in order."""
        return [LABEL, *self.proba_columns]

    @property
    def proba_columns(self) -> list[str]:
        return [f"{PROBA}{label}" for label in self.labels]


def as_frame(model_input: Any, card: Card) -> pd.DataFrame:
    """The model's input as a DataFrame of its columns; what it cannot read is a ContractError."""
    if isinstance(model_input, str):
        model_input = [model_input]
    if isinstance(model_input, pd.Series):
        model_input = model_input.tolist()
    if isinstance(model_input, np.ndarray) and model_input.ndim == 1:
        model_input = model_input.tolist()
    if isinstance(model_input, list | tuple):
        if not all(isinstance(t, str) for t in model_input):
            raise ContractError("a list input must be a list of texts (strings).")
        model_input = pd.DataFrame({"text": list(model_input)})
    elif isinstance(model_input, Mapping):
        values = {k: ([v] if isinstance(v, str) else list(v)) for k, v in model_input.items()}
        model_input = pd.DataFrame(values)
    if not isinstance(model_input, pd.DataFrame):
        raise ContractError(
            f"cannot read a {type(model_input).__name__}: give a DataFrame, a dict, or texts."
        )
    missing = [c for c in card.inputs if c not in model_input.columns]
    if missing:
        raise ContractError(
            f"the input lacks column(s) {', '.join(missing)}: this {card.task} model reads "
            f"{', '.join(card.inputs)}"
            + (" (a list of texts is enough for text-only models)." if missing != ["text"] else ".")
        )
    frame = model_input.reset_index(drop=True)
    columns = card.inputs + [c for c in card.optional_inputs if c in frame.columns]
    out = frame[columns].copy()
    for column in columns:
        out[column] = out[column].fillna("").astype(str)
    if card.target_texts and "target" in out.columns:  # codes read as the model was trained to
        out["target"] = [card.target_texts.get(t, t) for t in out["target"]]
    for column in card.optional_inputs:
        if column not in out.columns:
            out[column] = ""
    return out


def scores(estimator: Any, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, decisions) with the features computed once."""
    steps = getattr(estimator, "steps", None)
    if steps is not None and len(steps) > 1:  # a scikit-learn Pipeline: features, then the classifier
        features = estimator[:-1].transform(x)
        classifier = estimator[-1]
        return np.asarray(classifier.predict_proba(features)), np.asarray(classifier.predict(features))
    if hasattr(estimator, "decide"):  # spaCy: the decision follows from the scores
        proba = np.asarray(estimator.predict_proba(x))
        return proba, np.asarray(estimator.decide(proba))
    return np.asarray(estimator.predict_proba(x)), np.asarray(estimator.predict(x))


def predict_frame(estimator: Any, model_input: Any, card: Card, method: str = "predict") -> pd.DataFrame:
    """The contract's output for ``model_input``: ``label`` and ``proba_<code>`` per schema label."""
    if method not in PREDICT_METHODS:
        raise ContractError(f"{PREDICT_METHOD} {method!r} is not one of {', '.join(PREDICT_METHODS)}.")
    x = as_frame(model_input, card)
    proba, decided = scores(estimator, x) if len(x) else (np.zeros((0, 0)), np.zeros(0))
    out = pd.DataFrame(index=range(len(x)))
    if method == "predict":
        if card.multi_label:
            matrix = np.asarray(decided).reshape(len(x), len(card.labels))
            out[LABEL] = [[card.labels[j] for j in np.flatnonzero(row)] for row in matrix]
        else:
            out[LABEL] = [str(v) for v in decided]
    classes = (
        card.labels if card.multi_label else [str(c) for c in getattr(estimator, "classes_", card.labels)]
    )
    position = {label: i for i, label in enumerate(classes)}
    for label in card.labels:  # labels the training data lacked have probability 0
        i = position.get(label)
        out[f"{PROBA}{label}"] = proba[:, i].astype(float) if i is not None and len(x) else 0.0
    return out


def confidence(row: Mapping[str, Any], card: Card) -> float:
    """One number for how sure the model is of its decision (what Label Studio sorts by): the
    chosen label's probability; for multi-label, the mean distance of each label from the fence
    (0.5), mapped to 0.5..1."""
    probas = np.array([float(row[f"{PROBA}{label}"]) for label in card.labels])
    if not card.multi_label:
        return (
            float(probas[card.labels.index(row[LABEL])]) if row[LABEL] in card.labels else float(probas.max())
        )
    return float(np.mean(np.maximum(probas, 1 - probas))) if len(probas) else 0.0
