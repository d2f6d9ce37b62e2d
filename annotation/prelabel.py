"""A model's prediction as Label Studio takes it: the choices, the model version and a score.

One shape for pre-annotations pushed with tasks (``annotate push --model / --predictions``) and
for the ML backend's answers, so the Data Manager sorts and filters both by ``score`` and
``model_version`` alike.
"""

from __future__ import annotations


def prediction(task: str, labels: list[str], score: float, model_version: str) -> dict:
    """A prediction of ``labels`` for the choices named ``task`` (the project's control)."""
    return {
        "model_version": model_version,
        "score": float(score),
        "result": [
            {"from_name": task, "to_name": "text", "type": "choices", "value": {"choices": list(labels)}}
        ],
    }
