"""Query strategies on hand-made probability matrices: each picks what its definition says."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import NewslabError
from training import query
from training.query import select

SINGLE = np.array(
    [
        [0.90, 0.05, 0.05],  # 0: sure
        [0.34, 0.33, 0.33],  # 1: flattest
        [0.50, 0.495, 0.005],  # 2: closest top two, not flat
        [0.60, 0.20, 0.20],  # 3
    ]
)


def test_the_registry_lists_the_strategies_by_kind() -> None:
    assert query.names(multi_label=False) == ["breaking_ties", "entropy", "least_confidence", "random"]
    assert query.names(multi_label=True) == ["label_cardinality", "label_uncertainty", "random"]


def test_entropy_picks_the_flattest_row() -> None:
    assert select(SINGLE, "entropy", 1, multi_label=False).indices.tolist() == [1]


def test_breaking_ties_picks_the_closest_top_two() -> None:
    chosen = select(SINGLE, "breaking_ties", 2, multi_label=False)
    assert chosen.indices.tolist() == [2, 1]
    assert chosen.scores[0] == pytest.approx(1 - 0.005)


def test_least_confidence_picks_the_lowest_top_probability() -> None:
    chosen = select(SINGLE, "least_confidence", 4, multi_label=False)
    assert chosen.indices.tolist() == [1, 2, 3, 0]
    assert chosen.scores.tolist() == pytest.approx([0.66, 0.5, 0.4, 0.1])


def test_random_is_seeded() -> None:
    proba = np.full((50, 3), 1 / 3)
    a = select(proba, "random", 5, multi_label=False, seed=3).indices
    assert a.tolist() == select(proba, "random", 5, multi_label=False, seed=3).indices.tolist()
    assert a.tolist() != select(proba, "random", 5, multi_label=False, seed=4).indices.tolist()


def test_label_uncertainty_picks_labels_nearest_the_fence() -> None:
    proba = np.array([[0.99, 0.01, 0.01], [0.5, 0.4, 0.01], [0.9, 0.1, 0.6]])
    assert select(proba, "label_uncertainty", 1, multi_label=True).indices.tolist() == [1]


def test_label_cardinality_prefers_an_off_label_count_at_equal_uncertainty() -> None:
    # same per-label uncertainty (0.2 each); row 0 predicts 1 label, row 1 predicts 3
    proba = np.array([[0.8, 0.2, 0.2], [0.8, 0.8, 0.8], [0.99, 0.01, 0.01]])
    chosen = select(proba, "label_cardinality", 2, multi_label=True, label_cardinality=1.0)
    assert chosen.indices.tolist() == [1, 0]
    # where items usually carry three labels, the one-label row is the odd one
    chosen = select(proba, "label_cardinality", 1, multi_label=True, label_cardinality=3.0)
    assert chosen.indices.tolist() == [0]


def test_label_cardinality_needs_the_labelled_mean() -> None:
    with pytest.raises(NewslabError, match="mean number of labels"):
        select(np.full((3, 2), 0.5), "label_cardinality", 1, multi_label=True)


def test_diversity_takes_one_per_cluster() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[10.0, 0.0], [0.0, 10.0], [-10.0, -10.0]])
    features = np.vstack([c + rng.normal(0, 0.1, (10, 2)) for c in centres])
    cluster = np.repeat([0, 1, 2], 10)
    # the ten flattest rows all lie in cluster 0: without diversity the batch is all cluster 0
    proba = np.tile([0.9, 0.05, 0.05], (30, 1))
    proba[:10] = [0.4, 0.3, 0.3]
    plain = select(proba, "entropy", 3, multi_label=False)
    assert set(cluster[plain.indices]) == {0}
    diverse = select(proba, "entropy", 3, multi_label=False, features=features)
    assert sorted(cluster[diverse.indices]) == [0, 1, 2]
    assert diverse.indices[0] in range(10)  # the best candidate still leads


def test_labelled_near_duplicate_groups_are_left_out_and_a_batch_spreads_over_groups() -> None:
    groups = ["a", "a", "b", "b", "", ""]
    proba = np.array([[0.34, 0.33, 0.33]] * 2 + [[0.5, 0.3, 0.2]] * 2 + [[0.9, 0.05, 0.05]] * 2)
    chosen = select(proba, "entropy", 2, multi_label=False, groups=groups, labelled_groups={"a"})
    assert set(chosen.indices.tolist()) & {0, 1} == set()
    assert chosen.indices[0] in (2, 3) and chosen.indices[1] in (4, 5)  # one of group b, then ungrouped
    # with no labelled group, the batch takes one of a and one of b before a second of a
    chosen = select(proba, "entropy", 3, multi_label=False, groups=groups)
    assert [groups[i] for i in chosen.indices] == ["a", "b", ""]


def test_an_empty_pool_is_refused() -> None:
    with pytest.raises(NewslabError, match="pool of unlabelled candidates is empty"):
        select(np.zeros((0, 3)), "entropy", 1, multi_label=False)


def test_a_pool_left_empty_by_labelled_near_duplicates_is_refused() -> None:
    with pytest.raises(NewslabError, match=r"pool of unlabelled candidates is empty \(4 left out"):
        select(SINGLE, "entropy", 1, multi_label=False, groups=["a"] * 4, labelled_groups={"a"})


def test_a_batch_larger_than_the_pool_is_refused() -> None:
    with pytest.raises(NewslabError, match="a batch of 5 from a pool of 4"):
        select(SINGLE, "entropy", 5, multi_label=False)
    groups = ["a", "a", "b", "c"]
    with pytest.raises(NewslabError, match=r"pool of 2 .*2 left out as near-duplicates"):
        select(SINGLE, "entropy", 3, multi_label=False, groups=groups, labelled_groups={"a"})


def test_an_unknown_strategy_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(NewslabError, match="unknown query strategy 'margin'; known: breaking_ties, entropy"):
        select(SINGLE, "margin", 1, multi_label=False)


def test_a_strategy_of_the_other_task_kind_is_refused() -> None:
    with pytest.raises(NewslabError, match="not defined for multi-label tasks") as raised:
        select(SINGLE, "entropy", 1, multi_label=True)
    assert "label_uncertainty" in str(raised.value)
    with pytest.raises(NewslabError, match="not defined for single-label"):
        select(SINGLE, "label_uncertainty", 1, multi_label=False)


def test_mismatched_features_are_refused() -> None:
    with pytest.raises(NewslabError, match="features has 2 rows, the probabilities 4"):
        select(SINGLE, "entropy", 1, multi_label=False, features=np.zeros((2, 2)))
