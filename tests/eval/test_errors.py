"""Error analysis: confused label pairs and confident errors, hand-computed."""

from __future__ import annotations

import pandas as pd

from eval.errors import NONE, ConfidentError, ErrorAnalysis, analyse, confident_errors, confused_pairs


def _single() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e", "f"],
            "gold": ["favor", "favor", "favor", "against", "against", "neutral"],
            "pred": ["against", "against", "favor", "favor", "against", "favor"],
            "proba_favor": [0.3, 0.1, 0.8, 0.9, 0.2, 0.55],
            "proba_against": [0.6, 0.85, 0.1, 0.05, 0.7, 0.05],
            "proba_neutral": [0.1, 0.05, 0.1, 0.05, 0.1, 0.4],
            "text": ["text a", "text b", "text c", "text d", "text e", "text f"],
        }
    )


def test_confused_pairs_single_label() -> None:
    pairs = confused_pairs(_single(), multi_label=False, examples=1)
    assert [(p.gold, p.pred, p.count) for p in pairs] == [
        ("favor", "against", 2),
        ("against", "favor", 1),
        ("neutral", "favor", 1),
    ]
    assert [(e.id, e.snippet) for e in pairs[0].examples] == [("a", "text a")]  # at most one example
    assert len(confused_pairs(_single(), False, top=1)) == 1


def test_confident_errors_single_label() -> None:
    errors = confident_errors(_single(), multi_label=False)
    # wrong items: d (favor at .9), b (against at .85), a (against at .6), f (favor at .55)
    assert [(e.id, e.pred, e.probability) for e in errors] == [
        ("d", "favor", 0.9),
        ("b", "against", 0.85),
        ("a", "against", 0.6),
        ("f", "favor", 0.55),
    ]
    assert errors[0] == ConfidentError("d", "against", "favor", 0.9, "text d")
    assert len(confident_errors(_single(), False, top=2)) == 2


def test_multi_label_pairs_misses_and_additions() -> None:
    frame = pd.DataFrame(
        {
            "id": ["1", "2", "3", "4"],
            "gold": [["X"], ["X", "Y"], ["Y"], ["Z"]],
            "pred": [["Y"], ["X"], ["Y", "Z"], ["Z"]],
            "proba_X": [0.2, 0.9, 0.1, 0.1],
            "proba_Y": [0.7, 0.4, 0.8, 0.2],
            "proba_Z": [0.1, 0.1, 0.65, 0.9],
        }
    )
    pairs = {(p.gold, p.pred): p.count for p in confused_pairs(frame, multi_label=True)}
    # 1: X missed, Y added -> (X, Y); 2: Y missed, nothing added -> (Y, none); 3: Z added -> (none, Z)
    assert pairs == {("X", "Y"): 1, ("Y", NONE): 1, (NONE, "Z"): 1}
    errors = confident_errors(frame, multi_label=True)
    assert [(e.id, e.gold, e.pred, e.probability) for e in errors] == [
        ("1", "X", "Y", 0.7),
        ("3", "Y", "Z", 0.65),
    ]
    assert errors[0].snippet == ""  # no text column


def test_analysis_round_trips_through_json() -> None:
    import json

    analysis = analyse(_single(), multi_label=False)
    again = ErrorAnalysis.from_dict(json.loads(json.dumps(analysis.to_dict())))
    assert again == analysis
