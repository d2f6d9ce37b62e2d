"""Reading a logged model's estimator from its artifact (skops file or spaCy pipeline folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from newslab_model.contract import Card, ContractError


class Untrusted(ContractError):
    """A skops file holding types outside the trusted list: refused, nothing of it constructed."""

    def __init__(self, path: str | Path, types: list[str]) -> None:
        super().__init__(f"{path}: holds types not trusted: {', '.join(types)}; not loaded.")
        self.types = types


def _types(message: str) -> list[str]:
    """The type names skops lists in its refusal ("Untrusted types found in the file: [...]")."""
    import re

    return sorted(set(re.findall(r"'([^']+)'", message))) or [message]


def estimator(path: str | Path, card: Card, trusted: list[str] | None = None) -> Any:
    """The fitted estimator. skops loads only scikit-learn's own types and ``trusted`` (by default
    the card's list); a file holding any other type is refused, never executed."""
    if card.kind == "skops":
        import skops.io
        from skops.io.exceptions import UntrustedTypesFoundException

        allowed = card.trusted_types if trusted is None else trusted
        try:  # skops audits every node against ``allowed`` before constructing anything
            return skops.io.load(path, trusted=list(allowed))
        except UntrustedTypesFoundException as exc:
            raise Untrusted(path, _types(str(exc))) from None
    if card.kind == "spacy":
        import spacy

        from newslab_model.spacy_textcat import SpacyTextClassifier

        return SpacyTextClassifier.from_pipeline(spacy.load(path), card.labels, card.multi_label)
    raise ContractError(f"{path}: unknown model kind {card.kind!r}.")
