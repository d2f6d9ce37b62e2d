"""F_avg: the mean F1 of the polar labels (SemEval-2016 stance: favor and against).

The polar labels are the ones the schema flags ``polar: true``; the others (neutral,
none) still count as wrong answers through precision and recall of the polar ones.
"""

import numpy as np

from core.metrics import Metric, per_class, register


def _f_avg(cm: np.ndarray, roles) -> float:  # type: ignore[no-untyped-def]
    return float(np.mean(per_class(cm)[2][list(roles.polar)]))


register(
    Metric(
        "f_avg",
        "F avg",
        "mean F1 of the labels flagged polar (favor and against)",
        confusion=_f_avg,
        requires=lambda roles: (
            None if roles.polar else "f_avg needs labels flagged `polar: true` in the schema"
        ),
    )
)
