"""A fake sentence encoder for unit tests of the embedding features (no optional extra needed)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from newslab_model import embeddings


def fake_vector(text: str) -> np.ndarray:
    """A unit bag-of-words vector: texts sharing words are close, as with a real encoder."""
    v = np.zeros(384)
    for word in text.lower().replace(".", " ").split():
        v[int(hashlib.md5(word.encode()).hexdigest(), 16) % 384] += 1.0
    return v / max(np.linalg.norm(v), 1e-9)


@pytest.fixture
def fake_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sentence embeddings come from ``fake_vector`` instead of MiniLM."""

    def transform(self, X):  # type: ignore[no-untyped-def]
        texts = X[self.column] if isinstance(X, pd.DataFrame) else X
        return self.weight * np.vstack([fake_vector(str(t)) for t in texts])

    monkeypatch.setattr(embeddings.SentenceEmbedder, "transform", transform)
