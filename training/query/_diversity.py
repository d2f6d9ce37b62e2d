"""The diversity step: a batch spread over the candidates' topics, not stacked on one story.

The ``pool`` x ``n`` best candidates are clustered into ``n`` clusters (k-means on their feature
vectors, seeded; a mini-batch k-means, so a pool of thousands of TF-IDF rows stays cheap) and the
best-ranked candidate of each cluster is taken: the informativeness pre-filter then clustering
of "diverse mini-batch active learning" (Zhdanov 2019). Clusters come out ordered by their best
candidate's rank, and the candidates not taken follow in rank order.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def diverse(ranked: np.ndarray, features: Any, n: int, pool: int = 10, seed: int = 0) -> np.ndarray:
    """``ranked`` (row positions, best first) reordered so its first ``n`` are one per cluster."""
    from sklearn.cluster import MiniBatchKMeans

    top = ranked[: max(n, pool * n)]
    if len(top) <= n:
        return ranked
    x = features[top]
    kmeans = MiniBatchKMeans(n_clusters=n, random_state=seed, n_init=3, batch_size=1024)
    labels = kmeans.fit_predict(x)
    taken: dict[int, int] = {}
    for position, label in enumerate(labels):  # ``top`` is in rank order: the first seen is the best
        taken.setdefault(int(label), int(top[position]))
    first = list(taken.values())
    chosen = set(first)
    return np.array(first + [int(i) for i in ranked if int(i) not in chosen], dtype=int)
