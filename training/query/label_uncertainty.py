"""``label_uncertainty`` (multi-label): how close the candidate's labels are to their yes/no fence.

Each label of a multi-label model is its own yes/no decision; ``min(p, 1 - p)`` is that
decision's uncertainty (0 when sure, 0.5 at the fence) and the score is its mean over the
labels. numpy, not small-text: small-text's one multi-label strategy (CVIRS) also needs the
labelled set's label matrix and ranks with a margin of its own, where this reads the model's
probabilities alone. The fence is 0.5; a tuned model's per-label thresholds are not read.
"""

import numpy as np

from training.query import MULTI, Context, Strategy, register


def label_uncertainty(proba: np.ndarray) -> np.ndarray:
    """The mean over labels of min(p, 1 - p) for each row of a multi-label probability matrix."""
    return np.minimum(proba, 1.0 - proba).mean(axis=1) if proba.shape[1] else np.zeros(len(proba))


def _score(proba: np.ndarray, context: Context) -> np.ndarray:
    return label_uncertainty(proba)


register(Strategy("label_uncertainty", "mean over labels of min(p, 1 - p)", _score, kinds=(MULTI,)))
