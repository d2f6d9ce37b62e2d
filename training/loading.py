"""Loading a logged model without trusting the model's own files.

MLflow's scikit-learn loader reads the skops trust list from the model's MLmodel file (a tampered
model declares its own trust) and puts the model's bundled code on ``sys.path`` ahead of the
installed package. Here the trust list is newslab's code (``registry.trusted_types``), checked
against both what the MLmodel declares and what the skops file holds before anything is
loaded, and bundled code is never imported: the installed ``training`` package is used.
Pickle formats are refused outright.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core import tracking
from core.errors import NewslabError
from core.redact import redact
from training import registry

HINT = "Load only models newslab logged; retrain it if it was logged by another version of newslab."


def _inside(folder: Path, name: str, model_uri: str) -> Path:
    """A file the MLmodel names, which must lie inside the model's folder."""
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise NewslabError(f"model {model_uri}: its MLmodel points outside the model ({name}).", HINT)
    return path


def untrusted(path: Path, declared: list[str] | None) -> list[str]:
    """The types the skops file holds, or its MLmodel declares trusted, that newslab's code does not trust."""
    import skops.io

    allowed = set(registry.trusted_types())
    found = set(skops.io.get_untrusted_types(file=path)) | set(declared or ())
    return sorted(found - allowed)


def _load_sklearn(folder: Path, conf: dict, model_uri: str) -> Any:
    import skops.io

    if conf.get("serialization_format") != "skops":
        raise NewslabError(
            f"model {model_uri}: serialised as {conf.get('serialization_format', 'pickle')!r}, "
            "which can run any code when loaded; newslab loads skops models only.",
            HINT,
        )
    path = _inside(folder, conf["pickled_model"], model_uri)
    unexpected = untrusted(path, conf.get("skops_trusted_types"))
    if unexpected:
        raise NewslabError(
            f"model {model_uri}: holds or trusts types newslab does not: {', '.join(unexpected)}; "
            "not loaded.",
            HINT,
        )
    return skops.io.load(path, trusted=registry.trusted_types())


def _load_spacy(folder: Path, conf: dict, model_uri: str) -> Any:
    import spacy

    return spacy.load(_inside(folder, conf.get("data", "model.spacy"), model_uri))


def load_model(model_uri: str) -> Any:
    """The fitted model at ``model_uri`` (``runs:/ID/model``, ``models:/...``): a scikit-learn
    estimator or a spaCy pipeline. Refused, naming the model and the types, when it holds types
    newslab does not trust."""
    tracking.quiet()  # MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false: MLflow's own loaders refuse
    import mlflow
    from mlflow.models import Model

    try:
        folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri))
        flavors = Model.load(str(folder / "MLmodel")).flavors
    except Exception as exc:  # an MlflowException or an OSError from the artifact store
        why = (redact(str(exc)).splitlines() or [type(exc).__name__])[0]
        raise NewslabError(f"model {model_uri}: cannot be read ({why}).") from None
    if "sklearn" in flavors:
        return _load_sklearn(folder, flavors["sklearn"], model_uri)
    if "spacy" in flavors:
        return _load_spacy(folder, flavors["spacy"], model_uri)
    raise NewslabError(f"model {model_uri}: not a newslab model (flavours {', '.join(flavors)}).", HINT)
