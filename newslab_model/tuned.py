"""Classifiers that tune their decision on out-of-fold predictions of the training data:
one threshold per label (multi-label), one bias per class (single-label).

A logged model imports this module when it predicts: ``core`` (the metric registry) is
imported inside ``fit`` only, so a model loads without newslab installed.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold
from sklearn.multiclass import OneVsRestClassifier

from newslab_model.progress import step

#: boosting iterations between two progress reports (at least; a twentieth of max_iter at most)
BOOSTING_CHUNK = 10


class StagedHistGradientBoosting(HistGradientBoostingClassifier):
    """HistGradientBoostingClassifier fitted in chunks of iterations (warm start), reporting
    progress after each: a 300-iteration fit on FNC-1 takes minutes, and scikit-learn's has no
    callback. Without early stopping the trees are the ones a single fit grows (same seed, same
    data, same order); with it, or a warm start asked for, it is one plain fit."""

    def fit(self, X, y, sample_weight=None):  # type: ignore[no-untyped-def]
        total = self.max_iter
        if self.early_stopping is not False or self.warm_start:
            with step(f"boosting {total} iterations", total=None):
                return super().fit(X, y, sample_weight=sample_weight)
        chunk = max(BOOSTING_CHUNK, total // 20)
        with step(f"boosting {total} iterations", total=total) as advance:
            try:
                for stop in range(chunk, total + chunk, chunk):
                    self.set_params(max_iter=min(stop, total), warm_start=True)
                    super().fit(X, y, sample_weight=sample_weight)
                    advance(min(stop, total) - min(stop - chunk, total))
            finally:
                self.set_params(max_iter=total, warm_start=False)
        return self


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
        folds = KFold(self.cv, shuffle=True, random_state=self.random_state).split(Y)
        with step(f"tuning thresholds on {self.cv} folds", total=self.cv) as advance:
            for fit_rows, held_rows in folds:
                fold = OneVsRestClassifier(clone(self.estimator)).fit(X[fit_rows], Y[fit_rows])
                oof[held_rows] = self._scores(fold, X[held_rows])
                advance(1)
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


#: fewer training items of some class than this, and no biases are tuned (each held-out fold
#: would hold two or three of them: the biases would follow noise)
MIN_PER_CLASS = 10


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
        from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

        y = np.asarray(y)
        self.model_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.model_.classes_
        self.biases_ = np.zeros(len(self.classes_))
        codes = np.searchsorted(self.classes_, y)
        if self.cv < 2 or np.bincount(codes).min() < max(self.cv, MIN_PER_CLASS):
            return self  # biases fit to a handful of held-out items would be noise
        if groups is not None:
            folds = StratifiedGroupKFold(self.cv, shuffle=True, random_state=self.random_state).split(
                X, codes, groups=np.asarray(groups)
            )  # every class in every fold, one article's items on one side
        else:
            folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state).split(X, codes)
        oof = np.zeros((len(y), len(self.classes_)))
        with step(f"tuning biases on {self.cv} folds", total=self.cv) as advance:
            for fit_rows, held_rows in folds:
                fold = clone(self.estimator).fit(X[fit_rows], y[fit_rows])
                oof[np.ix_(held_rows, np.searchsorted(self.classes_, fold.classes_))] = fold.predict_proba(
                    X[held_rows]
                )
                advance(1)
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
