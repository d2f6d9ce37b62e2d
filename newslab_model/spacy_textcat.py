"""spaCy text classifiers trained from scratch: ``textcat`` (one label) and ``textcat_multilabel``.

The pipeline is made through spaCy's config system (``[nlp]``, ``[components]``,
architectures by registered name) on a blank pipeline of the dataset's language,
or on top of an installed trained pipeline when ``params.base`` names one. The
estimator has scikit-learn's interface (fit / predict / predict_proba / classes_)
so the training stage treats it like any other model. A logged model holds the pipeline
folder (``nlp.to_disk``; its label thresholds in ``meta["newslab"]``) and is rebuilt around it
by ``from_pipeline``.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import spacy
from sklearn.base import BaseEstimator, ClassifierMixin
from spacy.training import Example
from spacy.util import minibatch

from newslab_model.progress import step

CONFIG = """
[nlp]
lang = "{lang}"
pipeline = ["{component}"]

[components]

[components.{component}]
factory = "{component}"
threshold = 0.5

[components.{component}.model]
@architectures = "{architecture}"
exclusive_classes = {exclusive}
ngram_size = {ngram_size}
no_output_layer = false
length = 262144
"""

ENSEMBLE = """
[components.{component}.model]
@architectures = "spacy.TextCatEnsemble.v2"
nO = null

[components.{component}.model.linear_model]
@architectures = "spacy.TextCatBOW.v3"
exclusive_classes = {exclusive}
ngram_size = {ngram_size}
no_output_layer = false
length = 262144

[components.{component}.model.tok2vec]
@architectures = "spacy.Tok2Vec.v2"

[components.{component}.model.tok2vec.embed]
@architectures = "spacy.MultiHashEmbed.v2"
width = 64
rows = [2000, 2000, 500, 1000, 500]
attrs = ["NORM", "LOWER", "PREFIX", "SUFFIX", "SHAPE"]
include_static_vectors = false

[components.{component}.model.tok2vec.encode]
@architectures = "spacy.MaxoutWindowEncoder.v2"
width = 64
window_size = 1
maxout_pieces = 3
depth = 2
"""


class SpacyTextClassifier(ClassifierMixin, BaseEstimator):
    """A spaCy ``textcat`` / ``textcat_multilabel`` with scikit-learn's interface.

    ``y`` is a list of labels (single-label) or a binary indicator matrix whose columns
    are ``labels`` (multi-label), as the training stage passes them.
    """

    def __init__(
        self,
        labels: list[str],
        multi_label: bool = False,
        lang: str = "en",
        architecture: str = "bow",
        ngram_size: int = 2,
        epochs: int = 10,
        batch_size: int = 32,
        dropout: float = 0.2,
        base: str | None = None,
        tune_thresholds: bool = True,
        seed: int = 0,
    ) -> None:
        self.labels = labels
        self.multi_label = multi_label
        self.lang = lang
        self.architecture = architecture
        self.ngram_size = ngram_size
        self.epochs = epochs
        self.batch_size = batch_size
        self.dropout = dropout
        self.base = base
        self.tune_thresholds = tune_thresholds
        self.seed = seed

    @property
    def component(self) -> str:
        return "textcat_multilabel" if self.multi_label else "textcat"

    def _nlp(self):  # type: ignore[no-untyped-def]
        values = {
            "lang": self.lang,
            "component": self.component,
            "architecture": "spacy.TextCatBOW.v3",
            "exclusive": str(not self.multi_label).lower(),
            "ngram_size": self.ngram_size,
        }
        text = CONFIG.format(**values)
        if self.architecture == "ensemble":
            head = text.split(f"[components.{self.component}.model]")[0]
            text = head + ENSEMBLE.format(**values)
        config = spacy.util.load_config_from_str(text)
        if self.base:  # an installed trained pipeline: add the classifier to it
            nlp = spacy.load(self.base)
            nlp.add_pipe(self.component, config={"model": config["components"][self.component]["model"]})
            return nlp
        return spacy.util.load_model_from_config(config, auto_fill=True, validate=True)

    def _cats(self, row) -> dict[str, float]:  # type: ignore[no-untyped-def]
        if self.multi_label:
            return {label: float(v) for label, v in zip(self.labels, row, strict=True)}
        return {label: float(label == row) for label in self.labels}

    def fit(self, X: pd.DataFrame, y):  # type: ignore[no-untyped-def]
        """Train; for multi-label tasks first on 80 % of the items, to tune each label's threshold
        on the other 20 % (kept in ``nlp.meta["newslab"]``), then on all of them."""
        thresholds = np.full(len(self.labels), 0.5)
        if self.multi_label and self.tune_thresholds and len(X) >= 20:
            from sklearn.metrics import f1_score

            rows = np.random.default_rng(self.seed).permutation(len(X))
            held, fit = rows[: len(X) // 5], rows[len(X) // 5 :]
            Y = np.asarray(y)
            scores = self._fit(X.iloc[fit], Y[fit]).predict_proba(X.iloc[held])
            grid = np.linspace(0.05, 0.95, 19)
            for j in range(len(self.labels)):
                if Y[held, j].any():
                    f1 = [f1_score(Y[held, j], scores[:, j] >= t, zero_division=0) for t in grid]
                    thresholds[j] = grid[int(np.argmax(f1))]
        self._fit(X, y)
        self.thresholds_ = thresholds
        self.nlp_.meta["newslab"] = {"thresholds": dict(zip(self.labels, thresholds.tolist(), strict=True))}
        return self

    def _fit(self, X: pd.DataFrame, y):  # type: ignore[no-untyped-def]
        random.seed(self.seed)
        spacy.util.fix_random_seed(self.seed)
        nlp = self._nlp()
        textcat = nlp.get_pipe(self.component)
        for label in self.labels:
            textcat.add_label(label)
        texts = list(X["text"].astype(str))
        rows = np.asarray(y) if self.multi_label else list(y)
        examples = [
            Example.from_dict(nlp.make_doc(text), {"cats": self._cats(row)})
            for text, row in zip(texts, rows, strict=True)
        ]
        others = [name for name in nlp.pipe_names if name != self.component]
        with nlp.select_pipes(disable=others):
            optimizer = nlp.initialize(lambda: examples)
            with step(f"spaCy {self.component}: {self.epochs} epochs", total=self.epochs) as advance:
                for _ in range(self.epochs):
                    random.shuffle(examples)
                    for batch in minibatch(examples, size=self.batch_size):
                        nlp.update(batch, drop=self.dropout, sgd=optimizer)
                    advance(1)
        self.nlp_ = nlp
        self.classes_ = np.array(self.labels)
        return self

    @classmethod
    def from_pipeline(cls, nlp, labels: list[str], multi_label: bool) -> SpacyTextClassifier:  # type: ignore[no-untyped-def]
        """The fitted estimator around a trained pipeline loaded from a logged model."""
        model = cls(list(labels), multi_label, nlp.lang)
        model.nlp_ = nlp
        model.classes_ = np.array(model.labels)
        thresholds = nlp.meta.get("newslab", {}).get("thresholds", {})
        model.thresholds_ = np.array([thresholds.get(label, 0.5) for label in model.labels])
        return model

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        texts = list(X["text"].astype(str))
        return np.array(
            [[doc.cats[label] for label in self.labels] for doc in self.nlp_.pipe(texts)]
        ).reshape(len(texts), len(self.labels))

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """The decision from ``predict_proba``'s scores (0/1 per label for multi-label tasks)."""
        if self.multi_label:
            return (proba >= getattr(self, "thresholds_", 0.5)).astype(int)
        return self.classes_[proba.argmax(axis=1)]

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.decide(self.predict_proba(X))
