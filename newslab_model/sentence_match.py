"""Sentence-level matching of a headline (target) against the sentences of a body.

A body that *disagrees* with its headline usually says so in one or two sentences:
the ones closest in meaning to the headline, with a denial or a hedge in them.
Whole-body similarity loses them, so this transformer embeds every sentence of the
body (MiniLM, the optional extra ``embeddings``; English here) and describes, for each
pair, how the headline matches the body sentence by sentence:

- the distribution of headline-sentence cosines (max, top-3 mean, mean, spread, the
  best sentence's relative position, the first sentence's cosine, how many sentences
  are close), and an attention-weighted body vector's cosine with the headline;
- refuting and hedging words in the closest sentences, attention-weighted, per
  sentence over the body, and in the headline;
- optionally (``interactions`` > 0) a PCA of the headline-sentence interaction
  vectors (elementwise product and absolute difference with the best sentence and
  with the attention-weighted body, and the headline itself).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from newslab_model.embeddings import SentenceEmbedder
from newslab_model.progress import step
from newslab_model.text_features import HEDGING, REFUTING

#: sentence ends, and line breaks (news bodies put paragraphs on lines of their own)
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")
#: refuting words as in PairSimilarity, with negations and denials added
DENYING = (*REFUTING, "no", "never", "neither", "nor", "refute", "refuted", "refutes", "dismiss", "dismissed",
           "dismisses", "insist", "insists", "insisted")  # fmt: skip
REPORTING = (*HEDGING, "claim", "report", "reports", "according")
_DENY = re.compile(r"(?i)\b(?:" + "|".join(DENYING) + r")\b|n't\b")
_REPORT = re.compile(r"(?i)\b(?:" + "|".join(REPORTING) + r")\b")
#: pairs matched between two progress reports
REPORT_EVERY = 1000

SCALAR_NAMES = (
    "sim_max", "sim_top3", "sim_mean", "sim_std", "sim_best_position", "log_sentences", "sim_first",
    "close_sentences", "share_related_sentences", "attention_cosine",
    "denying_top3", "reporting_top3", "denying_best", "reporting_best", "denying_rate", "reporting_rate",
    "denying_target", "reporting_target", "denying_attention", "reporting_attention",
)  # fmt: skip


def sentences(text: str, limit: int) -> list[str]:
    """The first ``limit`` sentences of a text (at least one: the text's start)."""
    parts = [s.strip() for s in SENTENCE_BREAK.split(text) if len(s.strip()) > 2]
    return parts[:limit] or [text[:200] or " "]


class SentenceMatch(TransformerMixin, BaseEstimator):
    """Headline-to-sentence matching features of a (target, text) DataFrame; see the module doc."""

    def __init__(
        self,
        max_sentences: int = 60,
        sharpness: float = 10.0,
        interactions: int = 0,
        model: str = "",
        seed: int = 0,
    ) -> None:
        self.max_sentences = max_sentences
        self.sharpness = sharpness
        self.interactions = interactions
        self.model = model
        self.seed = seed

    def _features(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        if len(X) == 0:
            raise ValueError("SentenceMatch: no items to match.")
        embed = SentenceEmbedder(model=self.model)
        targets = X["target"].fillna("").astype(str).tolist()
        texts = X["text"].fillna("").astype(str).tolist()
        split = {text: sentences(text, self.max_sentences) for text in dict.fromkeys(texts)}
        unique_sentences = list(dict.fromkeys(s for parts in split.values() for s in parts))
        vectors = dict(zip(unique_sentences, embed.transform(unique_sentences), strict=True))
        unique_targets = list(dict.fromkeys(targets))
        target_vectors = dict(zip(unique_targets, embed.transform(unique_targets), strict=True))
        bodies = {}
        for text, parts in split.items():
            bodies[text] = (
                np.vstack([vectors[s] for s in parts]),
                np.array([len(_DENY.findall(s)) for s in parts], dtype=float),
                np.array([len(_REPORT.findall(s)) for s in parts], dtype=float),
            )
        target_cues = {t: (len(_DENY.findall(t)), len(_REPORT.findall(t))) for t in unique_targets}
        scalars = np.empty((len(texts), len(SCALAR_NAMES)))
        dims = len(next(iter(target_vectors.values()))) if target_vectors else 0
        pairs = np.empty((len(texts), 4 * dims), dtype=np.float32) if self.interactions else None
        with step(f"matching {len(texts):,} targets to sentences", total=len(texts)) as advance:
            for i, (target, text) in enumerate(zip(targets, texts, strict=True)):
                matrix, deny, report = bodies[text]
                head = target_vectors[target]
                sims = matrix @ head
                order = np.argsort(-sims)
                top, best, n = order[:3], order[0], len(sims)
                weights = np.exp(self.sharpness * (sims - sims.max()))
                weights /= weights.sum()
                attended = weights @ matrix
                attended /= np.linalg.norm(attended) + 1e-9
                scalars[i] = (
                    sims[best], sims[top].mean(), sims.mean(), sims.std(), best / n, np.log1p(n), sims[0],
                    (sims > 0.5).sum(), (sims > 0.3).mean(), attended @ head,
                    deny[top].sum(), report[top].sum(), deny[best], report[best],
                    deny.sum() / n, report.sum() / n, *target_cues[target], weights @ deny, weights @ report,
                )  # fmt: skip
                if pairs is not None:
                    closest = matrix[best]
                    pairs[i] = np.concatenate([head * closest, np.abs(head - closest), head * attended, head])
                if (i + 1) % REPORT_EVERY == 0 or i + 1 == len(texts):
                    advance(i % REPORT_EVERY + 1)
        return scalars, pairs

    def fit(self, X: pd.DataFrame, y=None):  # type: ignore[no-untyped-def]
        self.fit_transform(X)
        return self

    def fit_transform(self, X: pd.DataFrame, y=None) -> np.ndarray:  # type: ignore[no-untyped-def]
        scalars, pairs = self._features(X)
        self.pca_ = None
        if pairs is None:
            return scalars
        from sklearn.decomposition import PCA

        self.pca_ = PCA(min(self.interactions, *pairs.shape), random_state=self.seed).fit(pairs)
        return np.hstack([scalars, self.pca_.transform(pairs)])

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        scalars, pairs = self._features(X)
        if pairs is None or self.pca_ is None:
            return scalars
        return np.hstack([scalars, self.pca_.transform(pairs)])

    def get_feature_names_out(self, input_features=None):  # type: ignore[no-untyped-def]
        names = list(SCALAR_NAMES)
        if self.pca_ is not None:
            names += [f"interaction_{i}" for i in range(self.pca_.n_components_)]
        return np.array(names, dtype=object)
