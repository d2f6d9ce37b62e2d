"""Seeded, grouped, stratified folds: the one fold builder of sweeps, selection scores and `eval cv`.

Every item of a leakage group (a near-duplicate cluster, else an article) lands in the same
fold, so no model is scored on a copy of what it was fitted on. Folds are stratified on the
labels so each keeps the class mix of the whole (rare stance classes in every fold): single-label
tasks with scikit-learn's ``StratifiedGroupKFold``, multi-label ones with iterative
stratification (``MultilabelStratifiedKFold``) over the groups' labels.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from core.errors import NewslabError


def leakage_groups(groups: Sequence[str], article_ids: Sequence[str]) -> list[str]:
    """Each item's leakage group: its ``group`` (near-duplicate cluster) where set, else its article."""
    return [g or a for g, a in zip(groups, article_ids, strict=True)]


def _single_label(gold: Sequence, group_codes: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.model_selection import StratifiedGroupKFold

    folds = np.empty(len(gold), dtype=np.int64)
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # a class rarer than k items cannot sit in every fold: fine
        warnings.filterwarnings("ignore", message="The least populated class")
        for fold, (_, held) in enumerate(splitter.split(np.zeros(len(gold)), list(gold), group_codes)):
            folds[held] = fold
    return folds


def _multi_label(
    gold: Sequence, group_codes: np.ndarray, codes: Sequence[str], k: int, seed: int
) -> np.ndarray:
    """Iterative stratification of whole groups: each group counts as one row whose labels are
    those any of its items has, and its items follow it."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    index = {c: i for i, c in enumerate(codes)}
    n_groups = int(group_codes.max()) + 1
    matrix = np.zeros((n_groups, len(codes)), dtype=np.int64)
    for g, labels in zip(group_codes, gold, strict=True):
        for label in labels:
            matrix[g, index[label]] = 1
    group_fold = np.empty(n_groups, dtype=np.int64)
    splitter = MultilabelStratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    for fold, (_, held) in enumerate(splitter.split(np.zeros(n_groups), matrix)):
        group_fold[held] = fold
    return group_fold[group_codes]


def assign(
    gold: Sequence, groups: Sequence[str], codes: Sequence[str], multi_label: bool, k: int, seed: int
) -> np.ndarray:
    """The fold (0..k-1) of every item: grouped by ``groups``, stratified on ``gold`` (label codes,
    or lists of them for multi-label tasks), the same for the same seed."""
    if len(gold) != len(groups):
        raise ValueError(f"gold has {len(gold)} items, groups {len(groups)}")
    group_codes, uniques = pd.factorize(pd.Series(list(groups), dtype=object))
    if k < 2 or len(uniques) < k:
        raise NewslabError(
            f"{k} folds need at least {max(k, 2)} leakage groups (articles or near-duplicate clusters); "
            f"the items have {len(uniques)}.",
            "Use fewer folds.",
        )
    group_codes = np.asarray(group_codes, dtype=np.int64)
    if multi_label:
        return _multi_label(gold, group_codes, codes, k, seed)
    return _single_label(gold, group_codes, k, seed)


def splits(folds: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(fit rows, held-out rows) of each fold of an assignment, in fold order."""
    for fold in range(int(folds.max()) + 1):
        yield np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)


def plan(
    ids: Sequence[str],
    gold: Sequence,
    groups: Sequence[str],
    codes: Sequence[str],
    multi_label: bool,
    k: int,
    repeats: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    """Repeated fold assignments as a table (id, repeat, fold): repeat ``r`` is seeded ``seed + r``."""
    frames = [
        pd.DataFrame(
            {"id": list(ids), "repeat": r, "fold": assign(gold, groups, codes, multi_label, k, seed + r)}
        )
        for r in range(repeats)
    ]
    return pd.concat(frames, ignore_index=True)
