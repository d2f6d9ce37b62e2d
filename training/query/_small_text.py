"""small-text's query strategies over a probability matrix computed elsewhere.

small-text scores from a classifier's ``predict_proba(dataset)``; here the probabilities come
from a logged newslab model (``LoadedModel.predict``) or a simulation's fit, so a stand-in
classifier returns the matrix it was given. Scores are turned round where small-text's are
"lower is more useful" (least confidence, breaking ties), so every strategy here reads higher
as more useful.
"""

from __future__ import annotations

import os

import numpy as np


class _Given:
    """A stand-in classifier whose ``predict_proba`` is the matrix it holds, whatever it is asked."""

    def __init__(self, proba: np.ndarray) -> None:
        self.proba = proba

    def predict_proba(self, _dataset: object) -> np.ndarray:
        return self.proba


def confidence(strategy: str, proba: np.ndarray) -> np.ndarray:
    """small-text's ``get_confidence`` of ``strategy`` (a class name of
    ``small_text.query_strategies``) for every row of ``proba``."""
    # small-text imports transformers, which announces at import that PyTorch is absent
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from small_text import query_strategies

    chosen = getattr(query_strategies, strategy)()
    indices = np.arange(len(proba))
    return np.asarray(chosen.get_confidence(_Given(proba), None, indices, np.array([], dtype=int), None))
