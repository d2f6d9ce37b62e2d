"""``entropy``: the candidates whose probabilities are flattest over all labels (Holub et al. 2008).

small-text's ``PredictionEntropy`` (natural log). Unlike least confidence it reads every
label's probability, not only the top one's (Label Studio's open-source edition sorts by
the top score only; HumanSignal/label-studio#952).
"""

import numpy as np

from training.query import Context, Strategy, register
from training.query._small_text import confidence


def _entropy(proba: np.ndarray, context: Context) -> np.ndarray:
    return confidence("PredictionEntropy", proba)


register(Strategy("entropy", "the entropy of the predicted distribution", _entropy))
