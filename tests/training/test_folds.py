"""The fold builder: whole groups per fold, stratified labels, seeded assignments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import NewslabError
from training import folds


def _groups_intact(assignment: np.ndarray, groups: list[str]) -> bool:
    frame = pd.DataFrame({"group": groups, "fold": assignment})
    return bool((frame.groupby("group")["fold"].nunique() == 1).all())


def test_single_label_folds_keep_groups_whole_and_classes_in_every_fold() -> None:
    rng = np.random.default_rng(0)
    codes = ["favor", "against", "none"]
    groups = [f"g{i // 3}" for i in range(300)]  # 100 groups of three items
    gold = [codes[int(rng.random() < 0.2) + int(rng.random() < 0.1)] for _ in groups]
    assignment = folds.assign(gold, groups, codes, False, 5, seed=1)
    assert set(assignment) == set(range(5)) and _groups_intact(assignment, groups)
    for fold in range(5):
        assert {gold[i] for i in np.flatnonzero(assignment == fold)} == set(gold)
    assert (folds.assign(gold, groups, codes, False, 5, seed=1) == assignment).all()
    assert (folds.assign(gold, groups, codes, False, 5, seed=2) != assignment).any()


def test_multi_label_folds_are_stratified_over_whole_groups() -> None:
    rng = np.random.default_rng(0)
    codes = ["a", "b", "c", "rare"]
    groups = [f"g{i // 2}" for i in range(400)]
    gold = []
    for _ in groups:
        gold.append([c for c, p in zip(codes, (0.5, 0.3, 0.2, 0.05), strict=True) if rng.random() < p])
    assignment = folds.assign(gold, groups, codes, True, 4, seed=0)
    assert _groups_intact(assignment, groups)
    counts = np.array(
        [[sum(c in gold[i] for i in np.flatnonzero(assignment == f)) for c in codes] for f in range(4)]
    )
    total = counts.sum(axis=0)
    # every fold holds about a quarter of every label, the rare one included
    assert (np.abs(counts - total / 4) <= np.maximum(0.2 * total / 4, 2)).all(), counts
    assert (counts[:, codes.index("rare")] > 0).all()


def test_plan_repeats_splits_and_too_few_groups() -> None:
    ids = [f"i{n}" for n in range(40)]
    groups = [f"g{n // 4}" for n in range(40)]
    gold = ["x" if n % 2 else "y" for n in range(40)]
    plan = folds.plan(ids, gold, groups, ["x", "y"], False, k=2, repeats=3, seed=7)
    assert list(plan.columns) == ["id", "repeat", "fold"] and len(plan) == 120
    first = plan[plan["repeat"] == 0]["fold"].to_numpy()
    pairs = list(folds.splits(first))
    assert len(pairs) == 2 and all(len(set(fit) & set(held)) == 0 for fit, held in pairs)
    assert sorted(np.concatenate([held for _, held in pairs])) == list(range(40))
    assert folds.leakage_groups(["c1", ""], ["a1", "a2"]) == ["c1", "a2"]
    with pytest.raises(NewslabError, match="5 folds need at least 5 leakage groups"):
        folds.assign(gold[:8], groups[:8], ["x", "y"], False, 5, seed=0)


def test_selection_folds_are_configured_and_checked(tmp_path: Path) -> None:
    from training.config import load_experiment

    head = "name: x\ntask: stance\ndataset: fnc1\nmodel: {type: tfidf_lr}\n"
    path = tmp_path / "exp.yaml"
    path.write_text(head)
    assert load_experiment(path)[0].selection.folds == 3  # the default: little extra training
    path.write_text(head + "selection: {folds: 5}\n")
    assert load_experiment(path)[0].selection.folds == 5
    for bad in ("selection: {folds: 1}\n", "selection: {folds: 3, repeats: 2}\n"):
        path.write_text(head + bad)
        with pytest.raises(NewslabError, match="selection"):
            load_experiment(path)
