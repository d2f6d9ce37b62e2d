"""Active-learning query strategies: which unlabelled candidates are most worth annotating next.

A strategy scores each candidate from the model's probability matrix (rows: candidates; columns:
the schema's labels, as in the ``proba_<code>`` columns of ``LoadedModel.predict``); higher is
more useful to label. Each strategy is one module of this package registering a ``Strategy``
(the modules are imported the first time the registry is read), so adding a strategy is adding
a module and its test.

``select`` turns scores into a batch: candidates in the near-duplicate group of an already
labelled item are left out, at most one candidate per group is taken, and with ``features``
a diversity step clusters the best-scoring candidates and takes the best of each cluster, so a
batch is not a handful of near-copies of one story.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import NewslabError
from core.registry import Registry

SINGLE, MULTI = "single_label", "multi_label"


@dataclass(frozen=True)
class Context:
    """What a strategy may read besides the probabilities."""

    multi_label: bool
    #: random draws (the ``random`` strategy, tie-breaking), seeded by ``select``'s seed
    rng: np.random.Generator
    #: multi-label: the mean number of labels per labelled item (label-cardinality strategy)
    label_cardinality: float | None = None


@dataclass(frozen=True)
class Strategy:
    name: str
    description: str
    #: (probabilities of the candidates, context) -> one score per candidate, higher: more useful
    score: Callable[[np.ndarray, Context], np.ndarray]
    #: the task kinds it is defined for (SINGLE, MULTI)
    kinds: tuple[str, ...] = (SINGLE,)


_REGISTRY: Registry[Strategy] = Registry(
    "query strategy", __name__, "Name one of the known strategies (`random` works for every task)."
)


def register(strategy: Strategy) -> Strategy:
    return _REGISTRY.add(strategy.name, strategy, origin=strategy.score.__module__)


def get(name: str) -> Strategy:
    return _REGISTRY.get(name)


def names(multi_label: bool | None = None) -> list[str]:
    """The known strategies (for one kind of task when ``multi_label`` is given)."""
    if multi_label is None:
        return _REGISTRY.names()
    kind = MULTI if multi_label else SINGLE
    return [name for name, s in sorted(_REGISTRY.all().items()) if kind in s.kinds]


@dataclass(frozen=True)
class Selection:
    """The chosen candidates (row positions of the probability matrix), best first, and their scores."""

    strategy: str
    indices: np.ndarray
    scores: np.ndarray


def scores(
    proba: np.ndarray,
    strategy: str,
    *,
    multi_label: bool,
    seed: int = 0,
    label_cardinality: float | None = None,
) -> np.ndarray:
    """Every candidate's score under ``strategy`` (higher: more useful to label)."""
    chosen = get(strategy)
    kind = MULTI if multi_label else SINGLE
    if kind not in chosen.kinds:
        which = "multi-label" if multi_label else "single-label"
        raise NewslabError(
            f"query strategy {strategy!r} is not defined for {which} tasks.",
            f"For {which} tasks use one of: {', '.join(names(multi_label))}.",
        )
    context = Context(multi_label, np.random.default_rng(seed), label_cardinality)
    out = np.asarray(chosen.score(np.asarray(proba, dtype=float), context), dtype=float)
    if out.shape != (len(proba),):
        raise ValueError(f"strategy {strategy!r} gave {out.shape} scores for {len(proba)} candidates")
    return out


def _check(proba: np.ndarray, n: int, features: Any, groups: Sequence[str] | None) -> None:
    if proba.ndim != 2:
        raise NewslabError(
            f"query: the probabilities must be a matrix (candidates x labels), not {proba.shape}."
        )
    if len(proba) == 0:
        raise NewslabError(
            "query: the pool of unlabelled candidates is empty: nothing to choose from.",
            "Ingest more articles (`newslab corpus ingest`).",
        )
    if not np.isfinite(proba).all():
        raise NewslabError("query: the probabilities hold NaN or infinite values.")
    if n < 1:
        raise NewslabError(f"query: a batch of {n} items; ask for at least 1.")
    for name, other in (("features", features), ("groups", groups)):
        rows = None if other is None else (other.shape[0] if hasattr(other, "shape") else len(other))
        if rows is not None and rows != len(proba):
            raise NewslabError(f"query: {name} has {rows} rows, the probabilities {len(proba)}.")


def select(
    proba: np.ndarray,
    strategy: str,
    n: int,
    *,
    multi_label: bool,
    features: Any = None,
    groups: Sequence[str] | None = None,
    labelled_groups: Collection[str] = frozenset(),
    seed: int = 0,
    label_cardinality: float | None = None,
    diversity_pool: int = 10,
) -> Selection:
    """The ``n`` candidates most worth labelling under ``strategy``, best first (with ``features``:
    the best of each cluster, clusters in the order of their best).

    ``groups`` (a near-duplicate cluster per candidate, "" for none) and ``labelled_groups``
    leave out candidates whose group already has a labelled item, and keep one candidate per
    group in a batch while the pool allows. ``features`` (a row per candidate, e.g. TF-IDF)
    turns on the diversity step over the ``diversity_pool`` x ``n`` best candidates.
    """
    from training.query._diversity import diverse

    proba = np.asarray(proba, dtype=float)
    _check(proba, n, features, groups)
    candidates = np.arange(len(proba))
    if groups is not None and labelled_groups:
        done = set(labelled_groups)
        candidates = np.array([i for i in candidates if not groups[i] or groups[i] not in done], dtype=int)
    excluded = len(proba) - len(candidates)
    why = f" ({excluded} left out as near-duplicates of labelled items)" if excluded else ""
    if not len(candidates):
        raise NewslabError(
            f"query: the pool of unlabelled candidates is empty{why}: nothing to choose from.",
            "Ingest more articles (`newslab corpus ingest`).",
        )
    if n > len(candidates):
        raise NewslabError(
            f"query: a batch of {n} from a pool of {len(candidates)} unlabelled candidates{why}.",
            f"Ask for at most {len(candidates)}.",
        )
    every = scores(proba, strategy, multi_label=multi_label, seed=seed, label_cardinality=label_cardinality)
    # best first; ties broken by a seeded shuffle so equal scores do not always favour early rows
    tiebreak = np.random.default_rng(seed).permutation(len(candidates))
    ranked = candidates[np.lexsort((tiebreak, -every[candidates]))]
    ranked = _one_per_group(ranked, groups)
    if features is not None and n > 1:
        ranked = diverse(ranked, features, n, pool=diversity_pool, seed=seed)
    chosen = ranked[:n]
    return Selection(strategy, chosen, every[chosen])


def _one_per_group(ranked: np.ndarray, groups: Sequence[str] | None) -> np.ndarray:
    """``ranked`` with each group's best candidate first (in rank order), then the rest: a batch
    takes one per group while there are groups left to take from."""
    if groups is None:
        return ranked
    seen: set[str] = set()
    first, rest = [], []
    for i in ranked:
        g = groups[i]
        if g and g in seen:
            rest.append(i)
            continue
        if g:
            seen.add(g)
        first.append(i)
    return np.array(first + rest, dtype=int)
