"""Loading a logged model without trusting the model's own files.

MLflow's pyfunc loader runs the model's bundled code and reads the skops trust list from the
model's own ``model_config`` (a tampered model declares its own trust). Here the trust list is
newslab's code (``registry.trusted_types``), checked against both what the model declares and
what the skops file holds before anything is loaded, and bundled code is never imported: the
installed ``newslab_model`` package is used. Pickle formats are refused outright.

``load`` also resolves which run and registered version the model is, so what it predicts can
name its source (``model_version``), and checks the model against the schema it will serve.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from core import tracking
from core.errors import NewslabError
from core.redact import redact
from core.schema import Schema
from newslab_model import contract
from newslab_model import load as runtime
from newslab_model.contract import Card, ContractError
from training import registry

HINT = "Load only models newslab logged; retrain it if it was logged by another version of newslab."


def _inside(folder: Path, name: str, model_uri: str) -> Path:
    """A file the MLmodel names, which must lie inside the model's folder."""
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise NewslabError(f"model {model_uri}: its MLmodel points outside the model ({name}).", HINT)
    return path


def _untrusted_declared(declared: list[str] | None) -> list[str]:
    """The types the model declares trusted that newslab's code does not trust."""
    return sorted(set(declared or ()) - set(registry.trusted_types()))


@dataclass(frozen=True)
class LoadedModel:
    """A logged model, ready to predict, and where it came from."""

    uri: str
    estimator: Any
    card: Card
    #: the MLflow run that logged it ("" when unknown)
    run_id: str
    #: what predictions are labelled with: ``<registered name>/<version>``, else the run id
    version: str

    def predict(self, model_input: Any, method: str = "predict") -> pd.DataFrame:
        """The contract's output (``newslab_model.contract``): ``label`` and ``proba_<code>``."""
        return contract.predict_frame(self.estimator, model_input, self.card, method)


def _estimator(folder: Path, card: Card, artifact: str, model_uri: str) -> Any:
    path = _inside(folder, artifact, model_uri)
    if card.kind == "skops":
        if path.suffix != ".skops":
            raise NewslabError(
                f"model {model_uri}: its estimator {path.name} is not a skops file; newslab loads "
                "skops models only (other formats can run any code when loaded).",
                HINT,
            )
        unexpected = _untrusted_declared(card.trusted_types)
        if unexpected:
            raise NewslabError(
                f"model {model_uri}: holds or trusts types newslab does not: {', '.join(unexpected)}; "
                "not loaded.",
                HINT,
            )
        try:  # skops audits the file against newslab's list as it reads it: one pass over its tree
            return runtime.estimator(path, card, trusted=registry.trusted_types())
        except runtime.Untrusted as exc:
            raise NewslabError(
                f"model {model_uri}: holds or trusts types newslab does not: {', '.join(exc.types)}; "
                "not loaded.",
                HINT,
            ) from None
    return runtime.estimator(path, card)


def _card(flavors: dict, model_uri: str) -> tuple[Card, str]:
    """The model's card and the artifact path of its estimator; a model of another kind is refused."""
    pyfunc = flavors.get("python_function", {})
    config = pyfunc.get("config")
    if not isinstance(config, dict) or "estimator" not in (pyfunc.get("artifacts") or {}):
        older = " (logged by an older newslab)" if {"sklearn", "spacy"} & set(flavors) else ""
        raise NewslabError(
            f"model {model_uri}: not a newslab model{older}: flavours {', '.join(flavors) or 'none'}.",
            "Retrain it: `newslab train EXPERIMENT`.",
        )
    try:
        card = Card.from_config(config)
    except (ContractError, TypeError) as exc:
        raise NewslabError(f"model {model_uri}: {exc}", "Retrain it: `newslab train EXPERIMENT`.") from None
    return card, str(pyfunc["artifacts"]["estimator"]["path"])


def model_uri(model: str) -> str:
    """A model reference as an MLflow URI: a bare run id becomes ``runs:/ID/model``."""
    model = model.strip()
    if "://" in model or model.startswith(("models:/", "runs:/")):
        return model
    if len(model) == 32 and all(c in "0123456789abcdef" for c in model):
        return f"runs:/{model}/model"
    return model  # a local folder


def provenance(uri: str) -> tuple[str, str]:
    """(run id, version label) of a model URI: ``models:/NAME@ALIAS`` and ``models:/NAME/N`` name
    their registered version, ``runs:/ID/...`` its run; anything else ("", "")."""
    from mlflow import MlflowClient

    client = MlflowClient()
    if uri.startswith("runs:/"):
        run_id = uri[len("runs:/") :].split("/")[0]
        return run_id, run_id
    if uri.startswith("models:/"):
        rest = uri[len("models:/") :].strip("/")
        if "@" in rest:
            name, alias = rest.split("@", 1)
            found = client.get_model_version_by_alias(name, alias)
        elif "/" in rest:
            name, number = rest.rsplit("/", 1)
            found = client.get_model_version(name, number)
        else:  # models:/m-<id>, a logged model
            logged = client.get_logged_model(rest)
            return logged.source_run_id or "", logged.source_run_id or rest
        return found.run_id or "", f"{found.name}/{found.version}"
    return "", ""


def load(model: str) -> LoadedModel:
    """The model ``model`` (a run id, ``runs:/ID/model``, ``models:/NAME@ALIAS``, ``models:/NAME/N``
    or a folder), its card and its provenance. Refused, naming the model and why, when it cannot be
    read or holds types newslab does not trust."""
    tracking.quiet()  # MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false: MLflow's own loaders refuse
    import mlflow
    from mlflow.models import Model

    uri = model_uri(model)
    try:
        run_id, version = provenance(uri)
        folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
        flavors = Model.load(str(folder / "MLmodel")).flavors
    except Exception as exc:  # an MlflowException or an OSError from the artifact store
        why = (redact(str(exc)).splitlines() or [type(exc).__name__])[0]
        raise NewslabError(
            f"model {uri}: cannot be read ({why}).",
            "Name a run id, runs:/RUN/model, models:/NAME@champion or models:/NAME/VERSION "
            "(`newslab eval results` lists the runs).",
        ) from None
    card, artifact = _card(flavors, uri)
    try:
        estimator = _estimator(folder, card, artifact, uri)
    except ContractError as exc:
        raise NewslabError(f"model {uri}: {exc}", HINT) from None
    return LoadedModel(uri, estimator, card, run_id, version or run_id)


def load_model(model_uri: str) -> Any:
    """The fitted estimator of the model at ``model_uri``: a scikit-learn estimator, or a spaCy
    pipeline's ``SpacyTextClassifier``."""
    return load(model_uri).estimator


def check_serves(loaded: LoadedModel, schema: Schema, task: str) -> None:
    """The model was trained for ``task`` on this schema's labels: else an error before any write."""
    card = loaded.card
    if card.task != task:
        raise NewslabError(f"model {loaded.uri} predicts {card.task!r}, not {task!r}.")
    labels = schema.task(task).codes
    if list(card.labels) != list(labels):
        raise NewslabError(
            f"model {loaded.uri} was trained on schema {card.schema_version or '?'} with {task} labels "
            f"{', '.join(card.labels)}; the schema now ({schema.version}) has {', '.join(labels)}.",
            "Retrain it on a dataset built with the current schema.",
        )
