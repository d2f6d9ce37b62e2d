"""Is the model still changing? The stopping signal of active learning, in plain words.

Each round stores the model's predictions on a fixed sample of the task's items (``pool.stop_sample``).
Successive models' predictions on it are compared with small-text's ``KappaAverage`` (Bloodgood and
Vijay-Shanker 2009, "stabilizing predictions"): when Cohen's kappa between consecutive models
averages at least ``KAPPA`` over the last ``WINDOW`` retrainings, more labels are unlikely to change
what the model predicts. Multi-label predictions are compared as the pooled yes/no decisions of
every (item, label).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: small-text's defaults, those of the paper
KAPPA, WINDOW = 0.99, 3


@dataclass(frozen=True)
class Snapshot:
    """One round's model and what it predicted on the stop sample (key -> labels)."""

    round: int
    model_version: str
    predictions: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Signal:
    #: kappa between each retrained model and the one before it, oldest first
    kappas: list[float]
    stop: bool
    #: items the models were compared on
    compared: int
    same_model: bool
    message: str


def _encoded(snapshots: Sequence[Snapshot], keys: list[str], codes: Sequence[str], multi: bool) -> list:
    out = []
    for snap in snapshots:
        if multi:
            out.append(np.array([[c in snap.predictions[k] for c in codes] for k in keys], dtype=int).ravel())
        else:
            index = {c: i for i, c in enumerate(codes)}
            out.append(np.array([index.get(snap.predictions[k][0], -1) for k in keys], dtype=int))
    return out


def signal(history: Sequence[Snapshot], codes: Sequence[str], multi_label: bool) -> Signal:
    """The stopping signal after the last of ``history`` (rounds oldest first; one snapshot per
    round, the same model may serve several rounds)."""
    from small_text.stopping_criteria import KappaAverage

    if not history:
        raise ValueError("no rounds")
    models: list[Snapshot] = []
    for snap in history:  # a round served by the model of the round before adds no comparison
        if not models or models[-1].model_version != snap.model_version:
            models.append(snap)
    same = len(history) > 1 and history[-1].model_version == history[-2].model_version
    keys = sorted(set.intersection(*(set(s.predictions) for s in models))) if models else []
    if len(models) < 2 or not keys:
        why = (
            f"the model has not been retrained since round {history[-2].round} ({history[-1].model_version})"
            if same
            else "this is the first model"
        )
        return Signal(
            [],
            False,
            len(keys),
            same,
            f"No stopping signal yet: {why}. Retrain on the new "
            "labels before the next round to see whether the model still changes.",
        )
    criterion = KappaAverage(2 if multi_label else len(codes), window_size=WINDOW, kappa=KAPPA)
    kappas: list[float] = []
    stop = False
    for i, predictions in enumerate(_encoded(models, keys, codes, multi_label)):
        stop = bool(criterion.stop(predictions=predictions))
        if i:  # each call after the first adds the kappa with the previous model's predictions
            kappas.append(float(criterion.kappa_history[-1]))
    last = kappas[-1]
    window = kappas[-WINDOW:]
    changed = _changed_share(models[-2], models[-1], keys)
    if stop:
        message = (
            f"The model has stopped changing: over the last {len(window)} retrainings its predictions on "
            f"{len(keys)} fixed items agree with the previous model's at kappa {np.mean(window):.3f} "
            "on average "
            f"(>= {KAPPA}). More labels of this kind are unlikely to change it; consider stopping or "
            "changing what is labelled."
        )
    elif len(kappas) < WINDOW:
        message = (
            f"{changed:.0%} of the predictions on {len(keys)} fixed items differ from the previous model's "
            f"(kappa {last:.3f}). The stopping signal weighs the last {WINDOW} retrainings; there have "
            f"been {len(kappas)}. Keep labelling and retraining."
        )
    else:
        message = (
            f"The model is still changing: {changed:.0%} of its predictions on {len(keys)} fixed items "
            f"differ from the previous model's (kappa {last:.3f}; average {np.mean(window):.3f} over the "
            f"last {WINDOW} retrainings, the signal needs >= {KAPPA}). Keep labelling."
        )
    if same:
        message += (
            f" This round's model is the last round's ({history[-1].model_version}): retrain to update it."
        )
    return Signal(kappas, stop, len(keys), same, message)


def _changed_share(a: Snapshot, b: Snapshot, keys: list[str]) -> float:
    return float(np.mean([a.predictions[k] != b.predictions[k] for k in keys])) if keys else 0.0
