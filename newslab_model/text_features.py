"""Feature transformers of our own: TF-IDF that vectorises each distinct text once, target/text
similarity, cue words, author one-hot, LSA and length features.

A logged model imports this module when it predicts, so it imports nothing of newslab
(``core``): a model loads where only its pip requirements are installed.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from newslab_model.progress import step

#: the dataset column an ``author: true`` model reads beside the text
AUTHOR_COLUMN = "author"
#: scikit-learn's default token pattern, which stop words must match to take effect
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def stop_words_for(lang: str) -> str | list[str] | None:
    """Stop words of a language for ``TfidfVectorizer``: scikit-learn's own list for English (the
    figures of English models stay as they were), spaCy's for other languages, none when spaCy has
    no such language. spaCy's words are split into scikit-learn's tokens, so each can match."""
    if lang == "en":
        return "english"
    try:
        import spacy.util

        words = spacy.util.get_lang_class(lang).Defaults.stop_words
    except (ImportError, KeyError):  # unknown language (or the multi-language "xx"): none
        return None
    return sorted({token for word in words for token in _TOKEN.findall(word.lower())}) or None


def _unique(texts: pd.Series | list[str] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(list(texts), dtype=object)
    return np.unique(values, return_inverse=True)


class DedupTfidfVectorizer(TfidfVectorizer):
    """A TfidfVectorizer that vectorises each distinct text once.

    News stance sets pair one body with many headlines (FNC-1: 50k pairs, 1.7k
    bodies); vectorising distinct bodies and indexing the rows is ~30x faster and
    gives the same rows. IDF is computed over distinct texts.

    The vocabulary's indices are kept as Python ints, not NumPy scalars: skops (MLflow's
    serialisation) stores each NumPy scalar as an array of its own, which made a 300k-term
    vocabulary take 8 minutes and 139 MB to save (bench/train_models.py shows the save time).
    """

    def _plain_vocabulary(self) -> None:
        self.vocabulary_ = {term: int(index) for term, index in self.vocabulary_.items()}

    def fit(self, raw_documents, y=None):  # type: ignore[no-untyped-def]
        uniq, _ = _unique(raw_documents)
        super().fit(uniq)
        self._plain_vocabulary()
        return self

    def fit_transform(self, raw_documents, y=None):  # type: ignore[no-untyped-def]
        uniq, inverse = _unique(raw_documents)
        out = super().fit_transform(uniq)[inverse]
        self._plain_vocabulary()
        return out

    def transform(self, raw_documents):  # type: ignore[no-untyped-def]
        uniq, inverse = _unique(raw_documents)
        return super().transform(uniq)[inverse]


class PairSimilarity(TransformerMixin, BaseEstimator):
    """Similarity features between a target (headline) column and a text (body) column.

    Output columns: TF-IDF cosine similarity over a shared vocabulary, the share of
    target words found in the text, and the same two over the text's first
    ``lead_chars`` characters (news put the point of a story in its lead). ``stop_words`` are left
    out of the shared vocabulary (``stop_words_for`` the training language): shared function words
    say nothing about a pair.
    """

    def __init__(
        self,
        target_column: str = "target",
        text_column: str = "text",
        lead_chars: int = 600,
        cues: bool = False,
        stop_words: str | list[str] | None = "english",
    ) -> None:
        self.target_column = target_column
        self.text_column = text_column
        self.lead_chars = lead_chars
        self.cues = cues
        self.stop_words = stop_words

    def fit(self, X: pd.DataFrame, y=None):  # type: ignore[no-untyped-def]
        self.vectorizer_ = DedupTfidfVectorizer(sublinear_tf=True, stop_words=self.stop_words)
        texts = pd.concat([X[self.target_column], X[self.text_column]], ignore_index=True)
        self.vectorizer_.fit(texts.astype(str))
        return self

    def _pair_features(self, targets: pd.Series, texts: pd.Series) -> np.ndarray:
        a = self.vectorizer_.transform(targets)
        b = self.vectorizer_.transform(texts)
        cosine = np.asarray(a.multiply(b).sum(axis=1)).ravel()
        a_bin = (a > 0).astype(np.float32)
        b_bin = (b > 0).astype(np.float32)
        shared = np.asarray(a_bin.multiply(b_bin).sum(axis=1)).ravel()
        size = np.maximum(np.asarray(a_bin.sum(axis=1)).ravel(), 1.0)
        return np.column_stack([cosine, shared / size])

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        targets = X[self.target_column].astype(str)
        texts = X[self.text_column].astype(str)
        lead = texts.str.slice(0, self.lead_chars)
        parts = [self._pair_features(targets, texts), self._pair_features(targets, lead)]
        if self.cues:  # refuting and hedging words (English), in the target, the lead and the text
            parts += [
                _cue_counts(column, words)
                for words in (REFUTING, HEDGING)
                for column in (targets, lead, texts)
            ]
        return np.hstack(parts)

    def get_feature_names_out(self, input_features=None):  # type: ignore[no-untyped-def]
        names = ["cosine", "overlap", "lead_cosine", "lead_overlap"]
        if self.cues:
            names += [
                f"{kind}_{where}" for kind in ("refuting", "hedging") for where in ("target", "lead", "text")
            ]
        return np.array(names, dtype=object)


#: the FNC-1 baseline's refuting words, and common hedges (English)
REFUTING = (
    "fake", "fraud", "hoax", "false", "deny", "denies", "denied", "not", "despite", "nope", "doubt", "doubts",
    "bogus", "debunk", "debunked", "pranks", "retract", "retracted", "untrue", "rumor", "rumour", "myth",
)  # fmt: skip
HEDGING = (
    "allegedly", "reportedly", "claims", "claimed", "unconfirmed", "unverified", "purportedly", "apparently",
    "rumored", "rumoured", "supposedly", "may", "might", "could", "appears", "suggests",
)  # fmt: skip
_CUE_PATTERNS: dict[tuple[str, ...], str] = {}


def _cue_counts(texts: pd.Series, words: tuple[str, ...]) -> np.ndarray:
    """log(1 + occurrences of the words) per text, case-insensitive, whole words."""
    pattern = _CUE_PATTERNS.setdefault(words, r"(?i)\b(?:" + "|".join(words) + r")\b")
    return np.log1p(texts.str.count(pattern).to_numpy(dtype=float))[:, None]


class DefaultColumns(TransformerMixin, BaseEstimator):
    """Adds the optional input columns a caller left out, with a default value: a model that
    reads an author still predicts from text alone (an item without an author)."""

    def __init__(self, defaults: dict[str, str] | None = None) -> None:
        self.defaults = defaults

    def fit(self, X: pd.DataFrame, y=None):  # type: ignore[no-untyped-def]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = {c: v for c, v in (self.defaults or {}).items() if c not in X.columns}
        return X.assign(**missing) if missing else X


class AuthorOneHot(TransformerMixin, BaseEstimator):
    """One-hot of an item's author (the ``author`` column), scaled by ``weight``.

    Stance is a property of people as much as of texts: an account that argued against
    a reform in one tweet mostly does in the next. Authors not seen in training, and
    items without an author, get an all-zero row.
    """

    def __init__(self, column: str = AUTHOR_COLUMN, weight: float = 1.0) -> None:
        self.column = column
        self.weight = weight

    def fit(self, X: pd.DataFrame, y=None):  # type: ignore[no-untyped-def]
        authors = sorted({a for a in X[self.column].fillna("").astype(str) if a})
        self.vocabulary_ = {a: i for i, a in enumerate(authors)}  # Python ints: skops stores them cheaply
        return self

    def transform(self, X: pd.DataFrame) -> sparse.csr_matrix:
        index = [self.vocabulary_.get(a, -1) for a in X[self.column].fillna("").astype(str)]
        rows = [i for i, j in enumerate(index) if j >= 0]
        cols = [j for j in index if j >= 0]
        data = np.full(len(rows), self.weight, dtype=float)
        return sparse.csr_matrix((data, (rows, cols)), shape=(len(index), max(len(self.vocabulary_), 1)))

    def get_feature_names_out(self, input_features=None):  # type: ignore[no-untyped-def]
        names = [f"author={a}" for a in self.vocabulary_] or ["author=<none>"]
        return np.array(names, dtype=object)


class Lsa(TransformerMixin, BaseEstimator):
    """Latent semantic analysis of a text column: TF-IDF reduced by a truncated SVD to at most
    ``components`` dense dimensions (fewer when the vocabulary is smaller; a column with no
    usable vocabulary, such as an empty target, gives one constant feature)."""

    def __init__(
        self, components: int = 100, ngram_max: int = 2, max_features: int | None = 100_000, seed: int = 0
    ) -> None:  # type: ignore[no-untyped-def]
        self.components = components
        self.ngram_max = ngram_max
        self.max_features = max_features
        self.seed = seed

    def fit(self, X, y=None):  # type: ignore[no-untyped-def]
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None):  # type: ignore[no-untyped-def]
        from sklearn.decomposition import TruncatedSVD

        texts = pd.Series(np.asarray(X, dtype=object).ravel()).astype(str)
        self.tfidf_ = DedupTfidfVectorizer(
            ngram_range=(1, self.ngram_max),
            max_features=self.max_features,
            sublinear_tf=True,
            strip_accents="unicode",
        )
        with step(f"LSA of {len(texts):,} texts (TF-IDF, SVD)", total=2) as advance:
            try:
                matrix = self.tfidf_.fit_transform(texts)
            except ValueError:  # empty vocabulary
                self.svd_ = None
                return np.zeros((len(texts), 1))
            advance(1)
            k = min(self.components, matrix.shape[1] - 1)
            if k < 1:
                self.svd_ = None
                return np.zeros((len(texts), 1))
            self.svd_ = TruncatedSVD(k, random_state=self.seed)
            out = self.svd_.fit_transform(matrix)
            advance(1)
            return out

    def transform(self, X):  # type: ignore[no-untyped-def]
        texts = pd.Series(np.asarray(X, dtype=object).ravel()).astype(str)
        if self.svd_ is None:
            return np.zeros((len(texts), 1))
        return self.svd_.transform(self.tfidf_.transform(texts))


class LengthFeatures(TransformerMixin, BaseEstimator):
    """log(1 + characters), log(1 + words), question and exclamation marks per sentence-ish, of a
    text column: cheap dense features for the boosted trees."""

    def __init__(self, column: str = "text") -> None:
        self.column = column

    def fit(self, X: pd.DataFrame, y=None):  # type: ignore[no-untyped-def]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        texts = X[self.column].astype(str)
        chars = texts.str.len().to_numpy(dtype=float)
        words = texts.str.split().str.len().fillna(0).to_numpy(dtype=float)
        stops = np.maximum(texts.str.count(r"[.!?]").to_numpy(dtype=float), 1.0)
        return np.column_stack(
            [
                np.log1p(chars),
                np.log1p(words),
                texts.str.count(r"\?").to_numpy(dtype=float) / stops,
                texts.str.count("!").to_numpy(dtype=float) / stops,
            ]
        )

    def get_feature_names_out(self, input_features=None):  # type: ignore[no-untyped-def]
        return np.array(
            [f"{self.column}_{n}" for n in ("chars", "words", "questions", "exclaims")], dtype=object
        )
