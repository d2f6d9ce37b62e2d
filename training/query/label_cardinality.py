"""``label_cardinality`` (multi-label): uncertain candidates whose predicted number of labels is off.

Li & Guo (2013, "Active learning with multi-label SVM classification") combine an uncertainty
with the label cardinality inconsistency: the distance of a candidate's predicted number of
labels (probabilities >= 0.5) from the mean number of labels per labelled item. An item the
model gives no label, or five where items have one or two, is one it has not understood. The
score is ``sqrt(uncertainty x (inconsistency + 0.1))``: their product with beta = 0.5, the 0.1
keeping the uncertainty's ranking among candidates whose count is exactly right. numpy:
small-text has no such strategy.
"""

import numpy as np

from core.errors import NewslabError
from training.query import MULTI, Context, Strategy, register
from training.query.label_uncertainty import label_uncertainty

FENCE = 0.5
FLOOR = 0.1


def _score(proba: np.ndarray, context: Context) -> np.ndarray:
    if context.label_cardinality is None:
        raise NewslabError(
            "query strategy 'label_cardinality' needs the labelled items' mean number of labels.",
            "Pass label_cardinality (the mean label count of the training set).",
        )
    inconsistency = np.abs((proba >= FENCE).sum(axis=1) - context.label_cardinality)
    return np.sqrt(label_uncertainty(proba) * (inconsistency + FLOOR))


register(
    Strategy(
        "label_cardinality",
        "uncertainty x distance of the predicted label count from the labelled mean",
        _score,
        kinds=(MULTI,),
    )
)
