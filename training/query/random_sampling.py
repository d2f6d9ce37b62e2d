"""``random``: the baseline every other strategy has to beat; a seeded uniform draw.

small-text's ``RandomSampling`` draws from numpy's global state; a generator seeded by
``select`` keeps a batch reproducible.
"""

import numpy as np

from training.query import MULTI, SINGLE, Context, Strategy, register


def _random(proba: np.ndarray, context: Context) -> np.ndarray:
    return context.rng.random(len(proba))


register(Strategy("random", "a seeded random draw (the baseline)", _random, kinds=(SINGLE, MULTI)))
