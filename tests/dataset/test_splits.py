from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from core.errors import NewslabError
from dataset.splits import SplitConfig, assign_splits

LABELS = ["AGREE", "ASSAULT", "PROTEST", "AID"]


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 30), st.lists(st.sampled_from(LABELS), max_size=3, unique=True)),
        min_size=12,
        max_size=120,
    ),
    seed=st.integers(0, 1000),
    by=st.sampled_from(["random", "time"]),
)
def test_no_near_duplicate_cluster_spans_two_splits(data, seed, by) -> None:
    ids = [f"item{i}" for i in range(len(data))]
    groups = [f"cluster{g}" for g, _ in data]
    labels = [tuple(labs) for _, labs in data]
    dates = [f"2024-01-{1 + (g % 28):02d}" for g, _ in data]
    config = SplitConfig(fractions={"train": 0.6, "validation": 0.2, "test": 0.2}, seed=seed, by=by)
    try:
        result = assign_splits(ids, groups, labels, config, dates=dates)
    except NewslabError as err:  # too few groups for three splits is a clear error, not a leak
        assert "would be empty" in err.message
        return
    split_of: dict[str, str] = {}
    for group, split in zip(groups, result.splits, strict=True):
        assert split_of.setdefault(group, split) == split, f"{group} is in two splits"


def test_splits_are_deterministic_and_independent_of_input_order() -> None:
    rng = random.Random(0)
    rows = [(f"i{k}", f"g{k // 2}", (rng.choice(LABELS),)) for k in range(200)]
    config = SplitConfig(seed=5)
    first = dict(
        zip([r[0] for r in rows], assign_splits(*zip(*rows, strict=True), config).splits, strict=True)
    )
    shuffled = rows[:]
    rng.shuffle(shuffled)
    second = dict(
        zip([r[0] for r in shuffled], assign_splits(*zip(*shuffled, strict=True), config).splits, strict=True)
    )
    assert first == second
    third = assign_splits(*zip(*rows, strict=True), SplitConfig(seed=6)).splits
    assert list(first.values()) != third


def test_stratified_multilabel_proportions() -> None:
    rng = random.Random(1)
    ids, groups, labels = [], [], []
    for k in range(1000):
        ids.append(f"i{k}")
        groups.append(f"g{k}")
        labels.append(tuple(sorted(rng.sample(LABELS, rng.randint(0, 2)))))
    result = assign_splits(ids, groups, labels, SplitConfig())
    sizes = Counter(result.splits)
    assert sizes["train"] == pytest.approx(800, abs=10) and sizes["test"] == pytest.approx(100, abs=10)
    for label in LABELS:
        total = sum(label in labs for labs in labels)
        in_test = sum(label in labs for labs, s in zip(labels, result.splits, strict=True) if s == "test")
        assert in_test / total == pytest.approx(0.1, abs=0.02), label


def test_time_split_puts_the_oldest_in_train() -> None:
    ids = [f"i{k}" for k in range(10)]
    dates = [f"2024-01-{10 + k:02d}" for k in range(10)]
    config = SplitConfig(fractions={"train": 0.6, "validation": 0.2, "test": 0.2}, by="time")
    result = assign_splits(ids, ids, [("AGREE",)] * 10, config, dates=dates)
    assert result.splits == ["train"] * 6 + ["validation"] * 2 + ["test"] * 2


def test_time_split_without_dates_names_the_items() -> None:
    config = SplitConfig(by="time")
    with pytest.raises(NewslabError, match="have none: b"):
        assign_splits(["a", "b"], ["a", "b"], [(), ()], config, dates=["2024-01-01", ""])


def test_empty_split_is_an_error_naming_the_split() -> None:
    with pytest.raises(NewslabError, match="split 'validation' would be empty"):
        assign_splits(["a", "b"], ["g", "g"], [("AGREE",), ("AGREE",)], SplitConfig())


def test_a_class_too_small_to_stratify_is_a_warning_naming_the_items() -> None:
    ids = [f"i{k}" for k in range(30)]
    labels = [("AGREE",)] * 29 + [("AID",)]
    result = assign_splits(ids, ids, labels, SplitConfig())
    assert len(result.warnings) == 1
    assert "'AID'" in result.warnings[0] and "i29" in result.warnings[0]


def test_bad_fractions_are_refused() -> None:
    with pytest.raises(ValidationError, match="sum to 1"):
        SplitConfig(fractions={"train": 0.8, "test": 0.1})
    with pytest.raises(ValidationError, match="unknown split 'dev'"):
        SplitConfig(fractions={"train": 0.9, "dev": 0.1})
