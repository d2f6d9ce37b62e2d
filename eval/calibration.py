"""Calibration of a run's test probabilities: expected calibration error and the reliability diagram.

Top-label ECE (Guo et al. 2017) with equal-width bins over [0, 1], each bin closed on the
right ((0, 1/B], (1/B, 2/B], ...; a confidence of 0 falls in the first): the mean over bins,
weighted by their share of the decisions, of |accuracy - mean confidence|.

- single-label tasks: one decision per item, the label with the highest probability;
  its confidence is that probability, and it is right when it is the gold label.
- multi-label tasks: every (item, label) pair is a binary decision, "label" when its
  probability is at least 0.5, "not label" otherwise; its confidence is the probability
  of the side chosen (max(p, 1 - p)), and it is right when it agrees with the gold labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import NewslabError

N_BINS = 15
PROBA = "proba_"


@dataclass(frozen=True)
class Reliability:
    """The data of a reliability diagram: per bin, the decisions' count, accuracy and mean confidence
    (NaN for an empty bin), and the ECE they add up to."""

    edges: list[float]  #: n_bins + 1 bin edges, 0 to 1
    count: list[int]
    accuracy: list[float]
    confidence: list[float]
    ece: float
    n: int  #: decisions in all

    @property
    def n_bins(self) -> int:
        return len(self.count)


def probability_columns(predictions: pd.DataFrame, codes: Sequence[str]) -> list[str]:
    """The schema's labels that have a ``proba_<label>`` column, in schema order."""
    return [code for code in codes if f"{PROBA}{code}" in predictions.columns]


def decisions(
    predictions: pd.DataFrame, codes: Sequence[str], multi_label: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(confidence, correct) of every top-label decision of a predictions frame (see the module doc);
    items with a missing probability are left out."""
    labels = probability_columns(predictions, codes)
    if not labels:
        raise NewslabError("the predictions have no proba_<label> columns: no calibration to measure.")
    proba = predictions[[f"{PROBA}{code}" for code in labels]].to_numpy(dtype=float)
    scored = ~np.isnan(proba).any(axis=1)  # an item without probabilities has no confidence to measure
    proba, predictions = proba[scored], predictions[scored]
    if multi_label:
        gold = np.array([[code in set(g) for code in labels] for g in predictions["gold"]], dtype=bool)
        chosen = proba >= 0.5
        return np.where(chosen, proba, 1 - proba).ravel(), (chosen == gold).ravel()
    top = proba.argmax(axis=1)
    predicted = np.asarray(labels, dtype=object)[top]
    return proba[np.arange(len(proba)), top], predicted == predictions["gold"].to_numpy(dtype=object)


def reliability(confidence: Sequence[float], correct: Sequence[bool], n_bins: int = N_BINS) -> Reliability:
    """Bin the decisions by confidence (equal width, right-closed) and compute the ECE."""
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, not {n_bins}")
    conf = np.asarray(confidence, dtype=float)
    right = np.asarray(correct, dtype=float)
    if conf.shape != right.shape:
        raise ValueError(f"{conf.size} confidences but {right.size} outcomes")
    if conf.size and (np.isnan(conf).any() or conf.min() < 0 or conf.max() > 1):
        raise ValueError("confidences must lie in [0, 1]")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # right-closed bins: a confidence on an inner edge belongs to the bin below it
    index = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.bincount(index, weights=right, minlength=n_bins) / count
        mean_conf = np.bincount(index, weights=conf, minlength=n_bins) / count
    gaps = np.abs(accuracy - mean_conf)
    ece = float(np.sum(count[count > 0] * gaps[count > 0]) / conf.size) if conf.size else 0.0
    return Reliability(
        edges=edges.tolist(),
        count=count.tolist(),
        accuracy=accuracy.tolist(),
        confidence=mean_conf.tolist(),
        ece=ece,
        n=int(conf.size),
    )


def expected_calibration_error(
    confidence: Sequence[float], correct: Sequence[bool], n_bins: int = N_BINS
) -> float:
    return reliability(confidence, correct, n_bins).ece


def run_reliability(
    predictions: pd.DataFrame, codes: Sequence[str], multi_label: bool, n_bins: int = N_BINS
) -> Reliability:
    """The reliability data of a predictions frame (``predictions/test.parquet`` of a run)."""
    return reliability(*decisions(predictions, codes, multi_label), n_bins=n_bins)


def reliability_figure(data: Reliability, title: str):  # type: ignore[no-untyped-def]
    """Accuracy against confidence per bin, beside the diagonal of perfect calibration, with the
    number of decisions per bin below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(5, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    edges = np.asarray(data.edges)
    width = np.diff(edges)
    accuracy = np.nan_to_num(np.asarray(data.accuracy, dtype=float))
    confidence = np.asarray(data.confidence, dtype=float)
    filled = np.asarray(data.count) > 0
    top.bar(
        edges[:-1], accuracy, width=width, align="edge", color="#4c72b0", edgecolor="white", label="accuracy"
    )
    top.bar(
        edges[:-1][filled],
        (confidence - accuracy)[filled],
        bottom=accuracy[filled],
        width=width[filled],
        align="edge",
        color="#dd8452",
        alpha=0.45,
        edgecolor="#dd8452",
        label="gap to confidence",
    )
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.set_title(f"{title}\nECE {data.ece:.3f} ({data.n_bins} bins, {data.n:,} decisions)")
    top.legend(loc="upper left", fontsize=8)
    bottom.bar(edges[:-1], data.count, width=width, align="edge", color="#8c8c8c", edgecolor="white")
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("decisions")
    fig.tight_layout()
    return fig
