from __future__ import annotations

import pandas as pd
import pytest

from annotation.gold import GoldConfig, gold_labels
from core.errors import NewslabError
from core.schema import load_schema

SCHEMA = load_schema()


def rows(data: list[tuple], project: str = "newslab/stance") -> pd.DataFrame:
    """(article, target, annotator, labels[, ground_truth]) -> the pulled table's shape."""
    out = []
    for n, entry in enumerate(data):
        article, target, annotator, labels, *gt = entry
        out.append(
            {
                "project": project,
                "kind": "annotation",
                "article_id": article,
                "target": target,
                "annotator": annotator,
                "labels": labels,
                "cancelled": False,
                "ground_truth": bool(gt and gt[0]),
                "updated_at": f"2026-01-01T00:00:{n:02d}",
            }
        )
    return pd.DataFrame(out)


STANCE = [
    ("a1", "iran", "x", ["favor"]),
    ("a1", "iran", "y", ["favor"]),
    ("a1", "iran", "z", ["against"]),
    ("a2", "iran", "x", ["against"]),
    ("a2", "iran", "y", ["neutral"]),
    ("a3", "nato", "x", ["neutral"]),
]


def test_majority_vote_with_annotator_count_and_agreement() -> None:
    result = gold_labels(rows(STANCE), SCHEMA, "stance", GoldConfig(method="majority"))
    by_unit = {g.unit: g for g in result.items}
    a1 = by_unit["a1|iran"]
    assert a1.labels == ("favor",) and a1.n_annotators == 3 and a1.agreement == pytest.approx(2 / 3)
    assert a1.votes == (("x", ("favor",)), ("y", ("favor",)), ("z", ("against",)))
    assert by_unit["a3|nato"].n_annotators == 1 and by_unit["a3|nato"].agreement == 1.0
    # a2 is a tie: agreement 0.5 sends it to review; a1 (0.667) is under the default 0.67 too
    assert by_unit["a2|iran"].agreement == 0.5
    assert {g.unit for g in result.review} == {"a1|iran", "a2|iran"}


def test_min_annotators_drops_and_reports() -> None:
    result = gold_labels(rows(STANCE), SCHEMA, "stance", GoldConfig(method="majority", min_annotators=2))
    assert result.dropped == ["a3|nato"] and len(result.items) == 2


def test_dawid_skene_downweights_an_unreliable_annotator() -> None:
    # x and y agree everywhere; z disagrees with them most of the time. On the units where
    # z's vote decides nothing, DS and majority agree; DS follows x/y where only one of them voted.
    data = []
    labels = ["favor", "against", "neutral"]
    for k in range(30):
        truth = labels[k % 3]
        data += [(f"u{k}", "iran", "x", [truth]), (f"u{k}", "iran", "y", [truth])]
        data.append((f"u{k}", "iran", "z", [labels[(k + 1) % 3]]))
    data += [("w", "iran", "x", ["favor"]), ("w", "iran", "z", ["against"])]  # a tie for majority vote
    ds = {
        g.unit: g for g in gold_labels(rows(data), SCHEMA, "stance", GoldConfig(method="dawid_skene")).items
    }
    assert ds["w|iran"].labels == ("favor",) and ds["w|iran"].method == "dawid_skene"
    assert all(ds[f"u{k}|iran"].labels == (labels[k % 3],) for k in range(30))


def test_ground_truth_wins_and_the_rest_falls_back() -> None:
    adjudication = rows([("a2", "iran", "judge", ["neutral"])], project="newslab/stance/review")
    marked = rows([("a1", "iran", "z", ["against"], True)])  # z's own annotation, marked ground truth
    frame = pd.concat([rows(STANCE[:2] + STANCE[3:]), marked, adjudication], ignore_index=True)
    result = gold_labels(frame, SCHEMA, "stance", GoldConfig(method="ground_truth"))
    by_unit = {g.unit: g for g in result.items}
    assert by_unit["a2|iran"].labels == ("neutral",) and by_unit["a2|iran"].method == "adjudicated"
    assert by_unit["a2|iran"].n_annotators == 2  # the adjudicator is not counted as an annotator
    assert by_unit["a1|iran"].labels == ("against",) and by_unit["a1|iran"].method == "adjudicated"
    assert by_unit["a3|nato"].method == "majority"
    assert all(g.method != "adjudicated" for g in result.review)


def test_multi_label_majority_per_label() -> None:
    data = [
        ("e1", "", "x", ["AGREE", "ASSAULT"]),
        ("e1", "", "y", ["ASSAULT"]),
        ("e1", "", "z", ["ASSAULT", "PROTEST"]),
        ("e2", "", "x", []),
        ("e2", "", "y", []),
    ]
    result = gold_labels(
        rows(data, "newslab/event_type"), SCHEMA, "event_type", GoldConfig(method="majority")
    )
    by_unit = {g.unit: g for g in result.items}
    assert by_unit["e1"].labels == ("ASSAULT",)
    # MASI similarity to {ASSAULT}: {AGREE, ASSAULT} 1/2 x 2/3; {ASSAULT} 1; {ASSAULT, PROTEST} 1/3
    assert by_unit["e1"].agreement == pytest.approx((1 / 3 + 1 + 1 / 3) / 3, abs=1e-6)
    assert by_unit["e2"].labels == () and by_unit["e2"].agreement == 1.0


def test_no_annotations_is_a_clear_error() -> None:
    empty = rows([("a1", "iran", "x", ["favor"])]).iloc[0:0]
    with pytest.raises(NewslabError, match="no submitted annotations"):
        gold_labels(empty, SCHEMA, "stance", GoldConfig())


def test_a_primary_annotator_gives_the_gold_labels_and_an_adjudication_still_wins() -> None:
    frame = pd.concat(
        [
            rows([("a1", "iran", "first", ["favor"]), ("a1", "iran", "second", ["against"])]),
            rows([("a2", "iran", "second", ["neutral"])]),  # the primary never saw a2: the fallback decides
            rows([("a3", "iran", "first", ["favor"]), ("a3", "iran", "second", ["favor"])]),
            rows([("a3", "iran", "judge", ["against"])], project="newslab/stance/review"),
        ],
        ignore_index=True,
    )
    result = gold_labels(frame, SCHEMA, "stance", GoldConfig(method="ground_truth", primary="first"))
    got = {i.article_id: (i.labels, i.method, i.n_annotators, i.agreement) for i in result.items}
    assert got == {
        "a1": (("favor",), "primary", 2, 0.5),
        "a2": (("neutral",), "majority", 1, 1.0),
        "a3": (("against",), "adjudicated", 2, 0.0),
    }
