"""Deterministic, stratified, leakage-free train/validation/test splits.

Items are split as *groups*: every item of a group (a near-duplicate cluster of
the corpus, or one article with all its stance targets) lands in the same split,
so no text leaks from training into evaluation. Groups are stratified on their
labels with iterative stratification (Sechidis et al. 2011, via
``iterative-stratification``), which handles multi-label data; a single-label
task is the special case of one label per item. The result depends only on the
content and the seed, not on the order of the input. A time-based split puts the
oldest groups in train and the newest in test instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from iterstrat.ml_stratifiers import IterativeStratification
from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.errors import NewslabError

SPLIT_NAMES = ("train", "validation", "test")


class SplitConfig(BaseModel):
    """How a dataset without its own splits is split (``splits:`` in a dataset config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fractions: dict[str, float] = Field(
        default_factory=lambda: {"train": 0.8, "validation": 0.1, "test": 0.1}
    )
    seed: int = 13
    by: Literal["random", "time"] = "random"

    @model_validator(mode="after")
    def _check(self) -> SplitConfig:
        unknown = [name for name in self.fractions if name not in SPLIT_NAMES]
        if unknown:
            raise ValueError(f"unknown split {unknown[0]!r}; splits are {', '.join(SPLIT_NAMES)}")
        if any(f < 0 for f in self.fractions.values()) or abs(sum(self.fractions.values()) - 1) > 1e-6:
            raise ValueError(f"split fractions must be >= 0 and sum to 1, got {self.fractions}")
        return self


@dataclass
class SplitResult:
    splits: list[str]  #: the split of each item, in input order
    warnings: list[str] = field(default_factory=list)


def _names(ids: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def assign_splits(
    ids: Sequence[str],
    groups: Sequence[str],
    labels: Sequence[Sequence[str]],
    config: SplitConfig,
    dates: Sequence[str] | None = None,
) -> SplitResult:
    """The split of every item. ``groups[i]`` is the leakage group of item ``ids[i]``.

    Raises a ``NewslabError`` naming the split when one would be empty, and warns
    (naming the items) about labels too rare to appear in every split.
    """
    if not (len(ids) == len(groups) == len(labels)):
        raise ValueError("ids, groups and labels must have the same length")
    names = [name for name in SPLIT_NAMES if config.fractions.get(name, 0) > 0]
    if not ids:
        raise NewslabError("no items to split.")
    group_names = sorted(set(groups))
    index = {g: i for i, g in enumerate(group_names)}
    item_group = np.fromiter((index[g] for g in groups), dtype=np.int64, count=len(groups))
    warnings = _rare_label_warnings(ids, item_group, labels, len(names))

    if config.by == "time":
        fold = _by_time(ids, item_group, len(group_names), dates, [config.fractions[n] for n in names])
    else:
        fold = _stratified(
            item_group, labels, len(group_names), [config.fractions[n] for n in names], config.seed
        )
    splits = [names[f] for f in fold[item_group]]

    sizes = {name: 0 for name in names}
    for split in splits:
        sizes[split] += 1
    empty = [name for name, size in sizes.items() if size == 0]
    if empty:
        raise NewslabError(
            f"split {empty[0]!r} would be empty: {len(ids)} item(s) in {len(group_names)} group(s) "
            f"cannot fill the fractions {config.fractions}.",
            "Annotate more items, or give that split a larger fraction (or 0 to drop it).",
        )
    return SplitResult(splits, warnings)


def _rare_label_warnings(
    ids: Sequence[str], item_group: np.ndarray, labels: Sequence[Sequence[str]], n_splits: int
) -> list[str]:
    groups_of: dict[str, set[int]] = defaultdict(set)
    items_of: dict[str, list[str]] = defaultdict(list)
    for item_id, group, item_labels in zip(ids, item_group.tolist(), labels, strict=True):
        for label in item_labels:
            groups_of[label].add(group)
            items_of[label].append(item_id)
    return [
        f"label {label!r} occurs in only {len(groups_of[label])} group(s) "
        f"(items {_names(items_of[label])}): too few to stratify over {n_splits} splits; "
        "some split will lack it."
        for label in sorted(groups_of)
        if len(groups_of[label]) < n_splits
    ]


def _stratified(
    item_group: np.ndarray,
    labels: Sequence[Sequence[str]],
    n_groups: int,
    fractions: list[float],
    seed: int,
) -> np.ndarray:
    """The fold of every group, by iterative stratification over the groups' label sets."""
    classes = sorted({label for item_labels in labels for label in item_labels})
    column = {label: j for j, label in enumerate(classes)}
    matrix = np.zeros((n_groups, max(len(classes), 1)), dtype=bool)
    for group, item_labels in zip(item_group.tolist(), labels, strict=True):
        for label in item_labels:
            matrix[group, column[label]] = True
    rng = np.random.RandomState(seed)
    order = rng.permutation(n_groups)  # the algorithm breaks ties by position: shuffle first
    folds = IterativeStratification(matrix[order], np.asarray(fractions, dtype=float), rng)
    out = np.empty(n_groups, dtype=np.int64)
    out[order] = folds
    return out


def _by_time(
    ids: Sequence[str],
    item_group: np.ndarray,
    n_groups: int,
    dates: Sequence[str] | None,
    fractions: list[float],
) -> np.ndarray:
    """Oldest groups first: train, then validation, then test, by cumulative share of items."""
    if dates is None:
        raise NewslabError("a time-based split needs the items' dates.")
    missing = [item_id for item_id, date in zip(ids, dates, strict=True) if not date]
    if missing:
        raise NewslabError(
            f"a time-based split needs a date for every item; {len(missing)} have none: {_names(missing)}.",
            "Use `by: random`, or ingest the articles with their published dates.",
        )
    first: dict[int, str] = {}
    size = np.zeros(n_groups, dtype=np.int64)
    for group, date in zip(item_group.tolist(), dates, strict=True):
        size[group] += 1
        if group not in first or date < first[group]:
            first[group] = date
    order = sorted(range(n_groups), key=lambda g: (first[g], g))
    bounds = np.cumsum(fractions) * len(ids)
    out = np.empty(n_groups, dtype=np.int64)
    seen = 0
    for group in order:
        # a group goes to the split in which its middle item falls
        middle = seen + size[group] / 2
        out[group] = min(int(np.searchsorted(bounds, middle, side="right")), len(fractions) - 1)
        seen += size[group]
    return out
