"""Figures of a run: logged with its metrics (confusion matrix) or drawn for the report (per-class F1)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.metrics import confusion_matrix


def label_confusion(gold: Sequence, pred: Sequence, labels: list[str], multi_label: bool) -> np.ndarray:
    """Rows: gold label, columns: predicted label. For multi-label items every (gold, predicted)
    label pair of an item counts once, so the diagonal holds the hits of each label."""
    if not multi_label:
        return confusion_matrix(list(gold), list(pred), labels=labels)
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for g, p in zip(gold, pred, strict=True):
        for a in g:
            for b in p:
                matrix[index[a], index[b]] += 1
    return matrix


def confusion_figure(matrix: np.ndarray, labels: list[str], title: str):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = max(4.0, 0.45 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    high = matrix.max() if matrix.size else 0
    for (i, j), value in np.ndenumerate(matrix):
        if value:
            ax.text(
                j,
                i,
                str(value),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if value > high / 2 else "black",
            )
    ax.set_title(title)
    fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    return fig


def class_f1_figure(metrics: Mapping[str, float], codes: list[str], title: str):  # type: ignore[no-untyped-def]
    """Horizontal bars of each label's test F1, its test support beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, max(2.5, 0.32 * len(codes) + 1.2)))
    values = [metrics.get(f"f1_{code}", 0.0) for code in codes]
    positions = range(len(codes))
    ax.barh(positions, values, color="#4c72b0")
    for y, (code, value) in enumerate(zip(codes, values, strict=True)):
        support = metrics.get(f"support_{code}")
        note = f"{value:.2f}" + (f" (n={support:.0f})" if support is not None else "")
        ax.text(min(value + 0.01, 0.75), y, note, va="center", fontsize=8)
    ax.set_yticks(list(positions), codes)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def png_of(figure) -> bytes:  # type: ignore[no-untyped-def]
    """The figure as PNG bytes; the figure is closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()
