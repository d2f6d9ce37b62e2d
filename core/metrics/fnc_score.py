"""The FNC-1 score, as a fraction of the best possible score.

+0.25 for each item whose related/unrelated decision is right, +0.75 more for a related
item whose exact label is right (the FNC-1 organisers' scorer). The unrelated labels are
the ones the schema flags ``related: false``.
"""

import numpy as np

from core.metrics import Metric, register


def _score(cm: np.ndarray, roles) -> float:  # type: ignore[no-untyped-def]
    related = np.ones(len(cm), dtype=bool)
    related[list(roles.unrelated)] = False
    same_side = cm[np.ix_(related, related)].sum() + cm[np.ix_(~related, ~related)].sum()
    score = 0.25 * same_side + 0.75 * np.diag(cm)[related].sum()
    best = cm[related].sum() + 0.25 * cm[~related].sum()
    return float(score / best) if best else 0.0


def _requires(roles) -> str | None:  # type: ignore[no-untyped-def]
    if not roles.unrelated:
        return "fnc_score needs a label flagged `related: false` in the schema"
    if len(roles.unrelated) == len(roles.codes):
        return "fnc_score needs related labels too; every label is flagged `related: false`"
    return None


register(
    Metric(
        "fnc_score",
        "FNC score",
        "FNC-1 weighted accuracy: related/unrelated 0.25, the exact related label 0.75 more",
        confusion=_score,
        percent=True,
        requires=_requires,
    )
)
