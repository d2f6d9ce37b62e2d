"""Metrics per language, source and target: hand-computed cases."""

from __future__ import annotations

import pandas as pd
import pytest

from eval.breakdowns import MISSING, breakdowns, from_frame, to_frame

CODES = ["favor", "against", "neutral"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e"],
            "gold": ["favor", "against", "favor", "favor", "neutral"],
            "pred": ["favor", "favor", "favor", "against", "neutral"],
            "lang": ["it", "it", "en", "en", "en"],
            "source": ["s1", "s1", "s1", "s2", None],
            "target": [f"headline {i}" for i in range(5)],
        }
    )


def test_metrics_per_group_hand_computed() -> None:
    groups = {(g.column, g.value): g for g in breakdowns(_frame(), CODES, False)}
    en, it = groups[("lang", "en")], groups[("lang", "it")]
    # en: c right, d favor->against wrong, e right: accuracy 2/3;
    # F1 favor: P 1/1, R 1/2 -> 2/3; against: P 0 (d), no gold -> not in the macro mean; neutral: 1
    assert (en.n, en.accuracy) == (3, pytest.approx(2 / 3))
    assert en.macro_f1 == pytest.approx((2 / 3 + 1.0) / 2)
    # it: a right, b against->favor: favor P 1/2 R 1 -> 2/3, against 0
    assert (it.n, it.accuracy, it.macro_f1) == (2, 0.5, pytest.approx((2 / 3 + 0) / 2))
    s1 = groups[("source", "s1")]
    assert (s1.n, s1.accuracy) == (3, pytest.approx(2 / 3))
    assert groups[("source", MISSING)].n == 1 and groups[("source", MISSING)].accuracy == 1.0
    # five distinct targets: category-like under the default limit
    assert sum(1 for column, _ in groups if column == "target") == 5


def test_a_column_with_too_many_values_is_left_out_and_order_is_stable() -> None:
    groups = breakdowns(_frame(), CODES, False, max_groups=4)
    assert {g.column for g in groups} == {"lang", "source"}
    assert [(g.column, g.value) for g in groups][:2] == [("lang", "en"), ("lang", "it")]  # largest first
    long = pd.concat([_frame()] * 12, ignore_index=True)
    long["target"] = [f"headline {i}" for i in range(len(long))]  # 60 headlines, FNC-1 style
    assert "target" not in {g.column for g in breakdowns(long, CODES, False)}
    assert not breakdowns(_frame().drop(columns=["lang", "source", "target"]), CODES, False)


def test_multi_label_groups_use_subset_accuracy() -> None:
    frame = pd.DataFrame(
        {
            "gold": [["X"], ["X", "Y"], ["Y"]],
            "pred": [["X"], ["X"], ["Y"]],
            "lang": ["en", "en", "it"],
        }
    )
    en, it = breakdowns(frame, ["X", "Y", "Z"], True)
    # en: item 1 exact, item 2 misses Y: subset accuracy 1/2; F1 X = 1, F1 Y = 0 -> macro 0.5
    assert (en.value, en.n, en.accuracy, en.macro_f1) == ("en", 2, 0.5, 0.5)
    assert (it.value, it.accuracy, it.macro_f1) == ("it", 1.0, 1.0)


def test_frame_round_trip() -> None:
    groups = breakdowns(_frame(), CODES, False)
    frame = to_frame(groups)
    assert list(frame.columns) == ["column", "value", "n", "accuracy", "macro_f1"]
    assert from_frame(frame) == groups
