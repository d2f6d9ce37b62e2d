"""What several families' builders share: tuned per-class biases and the refusals they need."""

from __future__ import annotations

from typing import Any

from core import metrics
from core.errors import NewslabError
from core.schema import Task
from newslab_model.tuned import TunedBiasClassifier


def check_tune_bias(tune_bias: str | None, task: Task) -> None:
    """A bias tuned for a metric the task cannot have is refused before anything trains."""
    if not tune_bias:
        return
    if task.multi_label:
        raise NewslabError(
            "model: tune_bias is for single-label tasks; multi-label models tune a threshold per label "
            "(tune_thresholds)."
        )
    metrics.check([tune_bias], task, "model.params.tune_bias")


def tuned_bias(estimator: Any, metric: str, task: Task, seed: int) -> TunedBiasClassifier:
    """Per-class biases tuned for ``metric``; the labels it reads are the schema's flagged ones."""
    return TunedBiasClassifier(
        estimator,
        metric=metric,
        cv=3,
        random_state=seed,
        unrelated=tuple(label.code for label in task.labels if not label.related),
        polar=tuple(label.code for label in task.labels if label.polar),
    )
