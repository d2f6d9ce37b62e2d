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
    A component is labelled by its first row. Working memory is a few bytes per row.
    """
    labels = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
    for column in band_columns:
        order = np.argsort(column, kind="stable").astype(labels.dtype, copy=False)
        same = column[order[1:]] == column[order[:-1]]
        del column
        if not same.any():
            continue
        # a row whose key repeats its predecessor's is a candidate of its run's first row
        member = np.flatnonzero(same) + 1
        starts = np.flatnonzero(np.concatenate(([True], ~same)))
        del same
        leaders = order[starts[np.searchsorted(starts, member, side="right") - 1]]
        members = order[member]
        del order, starts, member
        todo = labels[leaders] != labels[members]  # skip pairs already in one component
        leaders, members = leaders[todo], members[todo]
        confirmed_a, confirmed_b = [], []
        for i in range(0, len(leaders), chunk):
            a, b = leaders[i : i + chunk], members[i : i + chunk]
            similarity = (signature_of(a) == signature_of(b)).mean(axis=1)
            keep = similarity >= params.threshold
            confirmed_a.append(a[keep])
            confirmed_b.append(b[keep])
        if confirmed_a:
            _merge(labels, np.concatenate(confirmed_a), np.concatenate(confirmed_b))
    return labels


def _merge(labels: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Join the components of each pair (a, b), in place; each component keeps its smallest row."""
    if len(a) == 0:
        return
    # labels are component representatives: union them, on a graph of the touched ones only
    la, lb = labels[a], labels[b]
    nodes, inverse = np.unique(np.concatenate([la, lb]), return_inverse=True)
    k = len(nodes)
    graph = coo_matrix(
        (np.ones(len(la), dtype=np.int8), (inverse[: len(la)], inverse[len(la) :])), shape=(k, k)
    )
    _, component = connected_components(graph, directed=False)
    smallest = np.full(component.max() + 1, labels.size, dtype=np.int64)
    np.minimum.at(smallest, component, nodes)
    touched = np.isin(labels, nodes)
    labels[touched] = smallest[component[np.searchsorted(nodes, labels[touched])]]
