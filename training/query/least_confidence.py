"""``least_confidence``: the candidates whose most likely label is least likely (Lewis & Gale 1994).

small-text's ``LeastConfidence``; the score is 1 - the top probability.
"""

import numpy as np

from training.query import Context, Strategy, register
from training.query._small_text import confidence


def _least_confidence(proba: np.ndarray, context: Context) -> np.ndarray:
    return 1.0 - confidence("LeastConfidence", proba)


register(Strategy("least_confidence", "1 - the top label's probability", _least_confidence))
