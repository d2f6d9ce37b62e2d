"""Near-duplicate detection: MinHash signatures (datasketch) and LSH banding.

Signatures and band hashes are stored with the corpus; clustering reads one band
at a time from disk, so memory stays flat as the corpus grows. Candidates that
share a band are confirmed by their estimated Jaccard similarity before they are
joined into a cluster.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import xxhash
from datasketch import MinHash
from datasketch.lsh import _optimal_param
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


@dataclass(frozen=True)
class DedupParams:
    num_perm: int = 128
    threshold: float = 0.8  #: estimated Jaccard similarity of word shingles
    shingle: int = 5  #: words per shingle

    @property
    def bands(self) -> tuple[int, int]:
        """(number of bands, rows per band) that minimise false positives and negatives."""
        b, r = _optimal_param(self.threshold, self.num_perm, 0.5, 0.5)
        return int(b), int(r)


def shingles(text: str, size: int) -> list[bytes]:
    words = text.lower().split()
    if len(words) <= size:
        return [" ".join(words).encode()]
    return [" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)]


def signatures(texts: Sequence[str], params: DedupParams) -> np.ndarray:
    """MinHash signatures, one row of ``num_perm`` uint32 per text."""
    hashed = MinHash.bulk(
        [shingles(t, params.shingle) for t in texts],
        num_perm=params.num_perm,
        hashfunc=xxhash.xxh32_intdigest,
    )
    return np.asarray([m.hashvalues for m in hashed], dtype=np.uint32).reshape(len(texts), params.num_perm)


def band_hashes(sigs: np.ndarray, params: DedupParams) -> np.ndarray:
    """One uint64 hash per band and text (shape: texts x bands)."""
    b, r = params.bands
    out = np.empty((sigs.shape[0], b), dtype=np.uint64)
    for band in range(b):
        chunk = np.ascontiguousarray(sigs[:, band * r : (band + 1) * r])
        out[:, band] = [xxhash.xxh3_64_intdigest(row.tobytes()) for row in chunk]
    return out


def cluster(
    n: int,
    band_columns: Iterable[np.ndarray],
    signature_of: callable,  # type: ignore[valid-type]
    params: DedupParams,
    chunk: int = 20_000,
) -> np.ndarray:
    """Connected components of confirmed near-duplicate pairs; returns a component label per row.

    ``band_columns`` yields, band by band, the uint64 band hash of every row (row
    order = store order). ``signature_of(rows)`` returns the signatures of those rows.
    """
    labels = np.arange(n, dtype=np.int64)
    for column in band_columns:
        order = np.argsort(column, kind="stable")
        keys = column[order]
        same = keys[1:] == keys[:-1]
        if not same.any():
            continue
        # each row that repeats its predecessor's key is a candidate of that run's first row
        starts = np.flatnonzero(np.concatenate(([True], ~same)))
        run_of = np.repeat(starts, np.diff(np.append(starts, len(keys))))
        member = np.flatnonzero(np.concatenate(([False], same)))
        leaders, members = order[run_of[member]], order[member]
        # skip pairs already in one component
        todo = labels[leaders] != labels[members]
        leaders, members = leaders[todo], members[todo]
        confirmed_a, confirmed_b = [], []
        for i in range(0, len(leaders), chunk):
            a, b = leaders[i : i + chunk], members[i : i + chunk]
            similarity = (signature_of(a) == signature_of(b)).mean(axis=1)
            keep = similarity >= params.threshold
            confirmed_a.append(a[keep])
            confirmed_b.append(b[keep])
        if confirmed_a:
            labels = _merge(labels, np.concatenate(confirmed_a), np.concatenate(confirmed_b))
    return labels


def _merge(labels: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0:
        return labels
    n = len(labels)
    rows = np.concatenate([np.arange(n), a])
    cols = np.concatenate([labels, b])
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    # label each component by its first row, so cluster ids follow store order
    first = np.full(component.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, component, np.arange(n))
    return first[component]
