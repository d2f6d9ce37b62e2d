"""``breaking_ties``: the candidates whose two most likely labels are closest (Luo et al. 2005).

small-text's ``BreakingTies``; the score is 1 - (top probability - second probability).
"""

import numpy as np

from training.query import Context, Strategy, register
from training.query._small_text import confidence


def _breaking_ties(proba: np.ndarray, context: Context) -> np.ndarray:
    return 1.0 - confidence("BreakingTies", proba)


register(Strategy("breaking_ties", "1 - the margin between the two most likely labels", _breaking_ties))
