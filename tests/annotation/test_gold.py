from __future__ import annotations

import random

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


# -- annotations that accepted a model's prediction unchanged (gold.accepted_predictions) --------


def with_origin(frame: pd.DataFrame, origins: list[str]) -> pd.DataFrame:
    frame["origin"] = origins
    frame["model_version"] = ["" if o == "from_scratch" else "tfidf-v1" for o in origins]
    return frame


# x and y accepted the model's "favor" on a1; z disagreed; on a2 only y accepted
ACCEPTING = [
    ("a1", "iran", "x", ["favor"]),
    ("a1", "iran", "y", ["favor"]),
    ("a1", "iran", "z", ["against"]),
    ("a2", "iran", "y", ["neutral"]),
]
ORIGINS = ["accepted", "accepted", "changed", "accepted"]


def test_accepted_predictions_count_by_default() -> None:
    result = gold_labels(
        with_origin(rows(ACCEPTING), ORIGINS), SCHEMA, "stance", GoldConfig(method="majority")
    )
    got = {g.unit: (g.labels, g.n_annotators) for g in result.items}
    assert got == {"a1|iran": (("favor",), 3), "a2|iran": (("neutral",), 1)} and result.dropped == []


def test_excluded_accepted_predictions_neither_vote_nor_keep_an_item() -> None:
    config = GoldConfig(method="majority", accepted_predictions="exclude")
    result = gold_labels(with_origin(rows(ACCEPTING), ORIGINS), SCHEMA, "stance", config)
    a1 = result.items[0]
    assert (a1.unit, a1.labels, a1.n_annotators, a1.votes) == (
        "a1|iran",
        ("against",),
        1,
        (("z", ("against",)),),
    )
    assert len(result.items) == 1 and result.dropped == ["a2|iran"]  # its only annotation accepted
    everything = with_origin(rows(ACCEPTING[3:]), ORIGINS[3:])
    with pytest.raises(NewslabError, match="no submitted annotations but ones that accepted a prediction"):
        gold_labels(everything, SCHEMA, "stance", config)


def test_weighted_accepted_predictions_lose_a_tie_but_not_a_majority() -> None:
    # a1: two accepted "favor" at 0.4 each (0.8) against one changed "against" (1.0)
    config = GoldConfig(method="majority", accepted_predictions="weight", accepted_weight=0.4)
    result = gold_labels(with_origin(rows(ACCEPTING), ORIGINS), SCHEMA, "stance", config)
    a1 = result.items[0]
    assert a1.labels == ("against",) and a1.n_annotators == 3
    assert a1.agreement == pytest.approx(1.0 / 1.8)  # z's full weight agrees, x's and y's 0.4 do not
    heavier = config.model_copy(update={"accepted_weight": 0.6})
    assert gold_labels(with_origin(rows(ACCEPTING), ORIGINS), SCHEMA, "stance", heavier).items[0].labels == (
        "favor",
    )


def test_weighted_majority_with_equal_weights_is_crowd_kits_majority() -> None:
    from crowdkit.aggregation import MajorityVote

    from annotation.agreement import submitted
    from annotation.gold import _aggregate

    rng = random.Random(3)
    stance = [
        (f"u{k}", "iran", w, [rng.choice(["favor", "against", "neutral"])]) for k in range(60) for w in "xyz"
    ]
    table = submitted(rows(stance))
    data = pd.DataFrame(
        {"task": table["unit"], "worker": table["annotator"], "label": [x[0] for x in table["labels"]]}
    )
    # crowd-kit breaks a tie by the order its counts come in, but alphabetically once weighted
    expected = MajorityVote().fit_predict(data, pd.Series(1.0, index=["x", "y", "z"]))
    assert _aggregate(table, "majority", False, 1, [1.0] * len(table)) == {
        u: (x,) for u, x in expected.items()
    }
    events = [
        (f"e{k}", "", w, sorted(rng.sample(["AGREE", "ASSAULT", "PROTEST", "AID"], rng.randint(0, 3))))
        for k in range(60)
        for w in "xyzv"
    ]
    table = submitted(rows(events))
    assert _aggregate(table, "majority", True, 1, [1.0] * len(table)) == _aggregate(
        table, "majority", True, 1, None
    )


def test_weight_needs_majority_vote() -> None:
    with pytest.raises(ValueError, match="weight needs majority vote"):
        GoldConfig(method="dawid_skene", accepted_predictions="weight")
    with pytest.raises(ValueError, match="weight needs majority vote"):
        GoldConfig(method="ground_truth", fallback="dawid_skene", accepted_predictions="weight")
    assert GoldConfig(method="dawid_skene", accepted_predictions="exclude").accepted_weight == 0.5


def test_an_adjudicator_who_accepts_a_vote_still_decides() -> None:
    # the review project shows every annotator's labels as predictions; accepting one is a decision
    adjudication = with_origin(
        rows([("a1", "iran", "judge", ["against"])], project="newslab/stance/review"), ["accepted"]
    )
    frame = pd.concat([with_origin(rows(ACCEPTING), ORIGINS), adjudication], ignore_index=True)
    config = GoldConfig(method="ground_truth", accepted_predictions="exclude")
    a1 = gold_labels(frame, SCHEMA, "stance", config).items[0]
    assert (a1.labels, a1.method) == (("against",), "adjudicated")
