"""The label-noise audit: flipped gold labels rank high; CROWDLAB finds consensus and weak annotators."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import NewslabError
from core.settings import Settings
from eval.audit import audit, crowdlab, label_issues, out_of_fold_proba, precision_recall_at


@pytest.mark.slow
def test_flipped_labels_on_a_real_slice_rank_high(settings: Settings, shared: Path) -> None:
    from core.assets import fetch
    from dataset.build import build
    from training.config import ModelConfig
    from training.runner import Part, prepare

    fetch(["cameo_pentacode"])
    build("cameo_pentacode", limit=300)
    model = ModelConfig.model_validate(
        {"type": "tfidf_lr", "params": {"C": 10.0, "class_weight": "balanced"}}
    )
    data = prepare(model, "cameo_pentacode_n300")
    train, codes = data.train, data.task.codes
    rng = np.random.default_rng(0)
    flipped = rng.choice(len(train.gold), len(train.gold) // 10, replace=False)
    gold = list(train.gold)
    for i in flipped:
        gold[i] = str(rng.choice([c for c in codes if c != gold[i]]))

    proba = out_of_fold_proba(data, Part(train.x, gold, train.groups), k=5)
    assert proba.shape == (len(gold), len(codes))
    assert np.allclose(proba.sum(axis=1), 1)
    issues = label_issues(gold, proba, codes, multi_label=False)
    precision, recall = precision_recall_at(issues.ranking, flipped.tolist(), 2 * len(flipped))
    # a random ranking finds 20 % of them in its top 2x; measured here: 70 %
    assert recall >= 0.5, (precision, recall)
    assert sorted(issues.ranking.tolist()) == list(range(len(gold)))
    assert len(issues.suggested) == len(gold)

    table = audit(data, k=3).table()  # the unflipped gold labels: one row per item, worst first
    assert len(table) == len(gold) and table["quality"].iloc[0] <= table["quality"].iloc[-1] + 1e-9
    assert table["flagged"].iloc[0] and set(table["id"]) == set(data.ds["train"]["id"])
    assert [f"proba_{c}" for c in codes] == [c for c in table.columns if c.startswith("proba_")]


def test_multi_label_issues_put_the_odd_label_first() -> None:
    gold = [["a"], ["a"], ["b"], ["b"], ["a", "b"], ["b"]] * 5
    proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.1, 0.9], [0.9, 0.9], [0.1, 0.9]] * 5)
    gold[5] = ["a"]  # the model is sure it is b
    issues = label_issues(gold, proba, ["a", "b"], multi_label=True)
    assert issues.ranking[0] == 5
    assert issues.suggested[5] == ["b"]


def test_audit_refuses_a_single_label_set() -> None:
    with pytest.raises(NewslabError, match="use 1 label"):
        label_issues(["a"] * 4, np.tile([0.5, 0.5], (4, 1)), ["a", "b"], multi_label=False)


def test_precision_and_recall_at_k() -> None:
    assert precision_recall_at(np.array([3, 1, 0, 2]), [1, 2], 2) == (0.5, 0.5)


def _votes() -> tuple[pd.DataFrame, list[str], np.ndarray, list[str]]:
    """30 items of 3 labels; ann1 and ann2 right, ann3 wrong on every other item, ann2 absent from a third."""
    codes = ["a", "b", "c"]
    truth = [codes[i % 3] for i in range(30)]
    items = [f"item-{i}" for i in range(30)]
    rows = []
    for i, (item, label) in enumerate(zip(items, truth, strict=True)):
        rows.append((item, "ann1", label))
        if i % 3:
            rows.append((item, "ann2", label))
        rows.append((item, "ann3", codes[(codes.index(label) + 1) % 3] if i % 2 else label))
    proba = np.full((30, 3), 0.2)
    proba[np.arange(30), [codes.index(t) for t in truth]] = 0.6
    return pd.DataFrame(rows, columns=["item", "annotator", "label"]), items, proba, truth


def test_crowdlab_consensus_and_annotator_quality() -> None:
    votes, items, proba, truth = _votes()
    result = crowdlab(votes, items, proba, ["a", "b", "c"])
    assert result.items.loc[items, "consensus_label"].tolist() == truth
    assert set(result.items.columns) >= {"consensus_quality", "annotator_agreement", "num_annotations"}
    assert result.annotators.index[-1] == "ann3"  # the weakest annotator last
    assert result.annotators.loc["ann3", "quality"] < result.annotators.loc["ann1", "quality"]
    assert result.annotators.loc["ann2", "items"] == 20
    # the items ann3 got wrong have the least sure consensus
    assert all(int(i.split("-")[1]) % 2 for i in result.items.index[:5])


def test_crowdlab_refuses_bad_votes() -> None:
    votes, items, proba, _ = _votes()
    with pytest.raises(NewslabError, match="unknown label"):
        crowdlab(votes.assign(label="zz"), items, proba, ["a", "b", "c"])
    with pytest.raises(NewslabError, match="one annotator"):
        crowdlab(votes[votes["annotator"] == "ann1"], items, proba, ["a", "b", "c"])
    with pytest.raises(NewslabError, match="two labels for one item"):
        crowdlab(pd.concat([votes, votes.head(1)]), items, proba, ["a", "b", "c"])
