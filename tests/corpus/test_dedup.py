from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.dedup import DedupParams, band_hashes, cluster, signatures

PARAMS = DedupParams()
WORDS = [f"w{i}" for i in range(5000)]


def _text(seed: int, n: int = 300) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _variant(text: str, share: float, seed: int) -> str:
    rng = random.Random(seed)
    words = text.split()
    for _ in range(max(1, int(len(words) * share))):
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    return " ".join(words)


def _labels(texts: list[str]) -> np.ndarray:
    sigs = signatures(texts, PARAMS)
    bands = band_hashes(sigs, PARAMS)
    return cluster(len(texts), (bands[:, b] for b in range(bands.shape[1])), lambda rows: sigs[rows], PARAMS)


def test_near_duplicates_cluster_and_distinct_texts_do_not() -> None:
    a, b = _text(1), _text(2)
    texts = [a, _variant(a, 0.005, 10), b, _variant(a, 0.30, 11), _variant(b, 0.005, 12), _text(3)]
    labels = _labels(texts)
    assert labels[0] == labels[1] == 0  # a cluster is named by its first row
    assert labels[2] == labels[4] == 2
    assert len({labels[0], labels[2], labels[3], labels[5]}) == 4


def test_signatures_are_deterministic() -> None:
    t = [_text(5)]
    assert (signatures(t, PARAMS) == signatures(t, PARAMS)).all()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from([0.0, 0.005, 0.5])), min_size=1, max_size=12))
def test_clusters_are_a_partition_labelled_by_their_first_member(spec: list[tuple[int, float]]) -> None:
    texts = [
        _text(base) if share == 0.0 else _variant(_text(base), share, i)
        for i, (base, share) in enumerate(spec)
    ]
    labels = _labels(texts)
    for row, label in enumerate(labels):
        assert label <= row and labels[label] == label
    # identical texts always share a cluster
    for i in range(len(texts)):
        for j in range(i):
            if texts[i] == texts[j]:
                assert labels[i] == labels[j]
