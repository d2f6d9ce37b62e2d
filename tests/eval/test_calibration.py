"""Expected calibration error and reliability bins: hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import NewslabError
from eval.calibration import (
    N_BINS,
    decisions,
    expected_calibration_error,
    probability_columns,
    reliability,
    reliability_figure,
    run_reliability,
)


def test_ece_hand_computed() -> None:
    # 10 bins: 0.85 in (0.8, 0.9] with 1 of 2 right (gap 0.35), 0.55 in (0.5, 0.6] with 2 of 2 (gap 0.45)
    ece = expected_calibration_error([0.85, 0.85, 0.55, 0.55], [True, False, True, True], n_bins=10)
    assert ece == pytest.approx(0.5 * 0.35 + 0.5 * 0.45)
    # uneven bin weights: 3 items at 0.95 all right (gap 0.05), 1 at 0.35 wrong (gap 0.35)
    ece = expected_calibration_error([0.95, 0.95, 0.95, 0.35], [1, 1, 1, 0], n_bins=10)
    assert ece == pytest.approx(0.75 * 0.05 + 0.25 * 0.35)
    # one bin: |accuracy - mean confidence| over everything
    assert expected_calibration_error([0.9, 0.5, 0.7], [1, 0, 0], n_bins=1) == pytest.approx(0.7 - 1 / 3)


def test_ece_of_perfect_and_of_overconfident_predictions() -> None:
    assert expected_calibration_error([0.7] * 10, [True] * 7 + [False] * 3) == pytest.approx(0.0)
    assert expected_calibration_error([1.0] * 4, [True, False, True, False]) == pytest.approx(0.5)
    assert expected_calibration_error([], []) == 0.0


def test_bins_are_equal_width_and_closed_on_the_right() -> None:
    data = reliability([0.0, 0.5, 0.51, 1.0], [True, False, True, True], n_bins=2)
    assert data.edges == [0.0, 0.5, 1.0]
    assert data.count == [2, 2]  # 0 and 0.5 in the first bin, 0.51 and 1 in the second
    assert data.accuracy == [0.5, 1.0] and data.confidence == pytest.approx([0.25, 0.755])
    assert data.ece == pytest.approx(0.5 * 0.25 + 0.5 * 0.245)
    default = reliability([0.2, 0.8], [True, False])
    assert default.n_bins == N_BINS == 15 and sum(default.count) == default.n == 2
    assert np.isnan(default.accuracy[0])  # an empty bin has no accuracy


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        reliability([1.2], [True])
    with pytest.raises(ValueError, match="outcomes"):
        reliability([0.5, 0.5], [True])


def test_single_label_decisions_take_the_top_label() -> None:
    frame = pd.DataFrame(
        {
            "gold": ["favor", "against", "neutral"],
            "pred": ["favor", "favor", "neutral"],
            "proba_favor": [0.6, 0.7, 0.2],
            "proba_against": [0.3, 0.2, 0.1],
            "proba_neutral": [0.1, 0.1, 0.7],
        }
    )
    codes = ["favor", "against", "neutral", "unrelated"]  # no proba_unrelated column: ignored
    assert probability_columns(frame, codes) == ["favor", "against", "neutral"]
    confidence, correct = decisions(frame, codes, multi_label=False)
    assert confidence.tolist() == [0.6, 0.7, 0.7] and correct.tolist() == [True, False, True]
    # 10 bins: 0.6 in (0.5, 0.6] right (gap 0.4); 0.7 twice in (0.6, 0.7], 1 of 2 right (gap 0.2)
    assert run_reliability(frame, codes, False, n_bins=10).ece == pytest.approx(0.4 / 3 + 2 / 3 * 0.2)
    frame.loc[3] = ["favor", "favor", float("nan"), 0.5, 0.5]  # no probabilities: left out
    assert decisions(frame, codes, multi_label=False)[0].tolist() == [0.6, 0.7, 0.7]


def test_multi_label_decisions_are_every_item_label_pair() -> None:
    frame = pd.DataFrame(
        {
            "gold": [["X"], ["Y"]],
            "pred": [["X", "Y"], []],
            "proba_X": [0.8, 0.3],
            "proba_Y": [0.6, 0.1],
        }
    )
    confidence, correct = decisions(frame, ["X", "Y"], multi_label=True)
    # (1, X): p .8 -> "X", right; (1, Y): .6 -> "Y", wrong; (2, X): .3 -> "not X" at .7, right;
    # (2, Y): .1 -> "not Y" at .9, wrong
    assert confidence == pytest.approx([0.8, 0.6, 0.7, 0.9])
    assert correct.tolist() == [True, False, True, False]
    # 4 bins: (.5, .75] holds .6 and .7 (accuracy .5, confidence .65); (.75, 1] holds .8 and .9
    assert run_reliability(frame, ["X", "Y"], True, n_bins=4).ece == pytest.approx(0.5 * 0.15 + 0.5 * 0.35)


def test_no_probabilities_is_a_user_error() -> None:
    frame = pd.DataFrame({"gold": ["favor"], "pred": ["favor"]})
    with pytest.raises(NewslabError, match="proba_"):
        decisions(frame, ["favor", "against"], multi_label=False)


def test_reliability_figure_draws_the_bins() -> None:
    import matplotlib.pyplot as plt

    data = reliability([0.95, 0.95, 0.35, 0.6], [1, 0, 0, 1])
    figure = reliability_figure(data, "run: test")
    top = figure.axes[0]
    assert "ECE 0." in top.get_title() and len(top.patches) == 15 + 3  # accuracy bars + 3 filled gaps
    plt.close(figure)
