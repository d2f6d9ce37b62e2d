"""Reading a logged model's estimator from its artifact (skops file or spaCy pipeline folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from newslab_model.contract import Card, ContractError


def estimator(path: str | Path, card: Card, trusted: list[str] | None = None) -> Any:
    """The fitted estimator. skops loads only scikit-learn's own types and ``trusted`` (by default
    the card's list); a file holding any other type is refused, never executed."""
    if card.kind == "skops":
        import skops.io

        allowed = card.trusted_types if trusted is None else trusted
        unexpected = sorted(set(skops.io.get_untrusted_types(file=path)) - set(allowed))
        if unexpected:
            raise ContractError(f"{path}: holds types not trusted: {', '.join(unexpected)}; not loaded.")
        return skops.io.load(path, trusted=list(allowed))
    if card.kind == "spacy":
        import spacy

        from newslab_model.spacy_textcat import SpacyTextClassifier

        return SpacyTextClassifier.from_pipeline(spacy.load(path), card.labels, card.multi_label)
    raise ContractError(f"{path}: unknown model kind {card.kind!r}.")
