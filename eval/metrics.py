"""Metric functions. Label sets always come from the schema, never from the data seen."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, hamming_loss, precision_recall_fscore_support
from sklearn.preprocessing import MultiLabelBinarizer


def fnc_score(gold: Sequence[str], pred: Sequence[str], unrelated: str = "unrelated") -> float:
    """The official FNC-1 score as a fraction of the best possible score.

    +0.25 for each pair whose related/unrelated decision is right, +0.75 more for
    a related pair whose exact stance is right (the scorer of the FNC-1 organisers).
    """
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} items, pred has {len(pred)}")
    score = best = 0.0
    for g, p in zip(gold, pred, strict=True):
        g_related, p_related = g != unrelated, p != unrelated
        best += 1.0 if g_related else 0.25
        if g_related == p_related:
            score += 0.25
        if g_related and g == p:
            score += 0.75
    return score / best if best else 0.0


def confusion_f1(y: np.ndarray, p: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Confusion matrix (rows gold) and per-class F1 of integer-coded labels ``0..k-1``: the fast path
    for bootstrap resamples, checked equal to the scikit-learn functions above in the tests."""
    cm = np.bincount(y * k + p, minlength=k * k).reshape(k, k)
    tp = np.diag(cm).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.nan_to_num(2 * tp / (cm.sum(axis=0) + cm.sum(axis=1)))
    return cm, f1


def macro_f1_codes(y: np.ndarray, p: np.ndarray, k: int) -> float:
    """Macro-F1 over the classes present in the gold labels, as ``single_label_metrics`` has it."""
    cm, f1 = confusion_f1(y, p, k)
    return float(f1[cm.sum(axis=1) > 0].mean())


def single_label_metrics(gold: Sequence[str], pred: Sequence[str], labels: list[str]) -> dict[str, float]:
    """Accuracy, macro/micro F1 and per-class precision, recall and F1 over the schema's labels."""
    present = [label for label in labels if label in set(gold)]
    metrics = {
        "accuracy": float(accuracy_score(gold, pred)),
        # macro over the classes present in the gold labels: a class absent from a
        # test set has no defined recall and would pull the mean down to no purpose.
        "macro_f1": float(f1_score(gold, pred, labels=present, average="macro", zero_division=0)),
        "micro_f1": float(f1_score(gold, pred, labels=labels, average="micro", zero_division=0)),
    }
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    for i, label in enumerate(labels):
        metrics[f"precision_{label}"] = float(p[i])
        metrics[f"recall_{label}"] = float(r[i])
        metrics[f"f1_{label}"] = float(f[i])
        metrics[f"support_{label}"] = float(s[i])
    return metrics


def multi_label_metrics(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], labels: list[str]
) -> dict[str, float]:
    """Micro/macro F1, subset accuracy, Hamming loss and per-label F1 for multi-label tasks."""
    binarizer = MultiLabelBinarizer(classes=labels)
    y_true = binarizer.fit_transform(gold)
    y_pred = binarizer.transform(pred)
    metrics = {
        "subset_accuracy": float(accuracy_score(y_true, y_pred)),
        "hamming_loss": float(hamming_loss(y_true, y_pred)),
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "macro_f1": float(
            f1_score(
                y_true[:, y_true.any(axis=0)],
                y_pred[:, y_true.any(axis=0)],
                average="macro",
                zero_division=0,
            )
        )
        if y_true.any()
        else 0.0,
    }
    per_label = f1_score(y_true, y_pred, average=None, zero_division=0)
    support = y_true.sum(axis=0)
    for i, label in enumerate(labels):
        metrics[f"f1_{label}"] = float(per_label[i])
        metrics[f"support_{label}"] = float(support[i])
    return metrics
