"""CROWDLAB: the model's out-of-fold view, the consensus, annotator quality, and its gold labels."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest

from annotation.agreement import annotator_quality
from annotation.crowdlab import crowdlab_multilabel, model_proba, provisional
from annotation.gold import GoldConfig, gold_labels
from core.errors import NewslabError
from core.schema import load_schema
from tests.annotation.test_gold import rows

SCHEMA = load_schema()
STANCES = ["favor", "against", "neutral"]
WORDS = {
    "favor": "praise welcome applaud support endorse",
    "against": "condemn oppose reject denounce criticise",
    "neutral": "report note describe mention observe",
    "ASSAULT": "bombing airstrike shelling attack",
    "PROTEST": "march rally demonstrators strike",
    "AGREE": "treaty accord signed deal",
}
FILLER = [
    "the",
    "a",
    "of",
    "government",
    "minister",
    "city",
    "week",
    "said",
    "on",
    "in",
    "officials",
    "people",
]


def text(codes: list[str], rng: random.Random) -> str:
    words = [w for c in codes for w in WORDS[c].split()] + rng.choices(FILLER, k=12)
    rng.shuffle(words)
    return " ".join(words)


def stance_case() -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """45 articles: x and y always right, z random; on u30-u44 only x and z voted (a tie when z is wrong)."""
    rng = random.Random(0)
    data, texts, truth = [], {}, {}
    for k in range(45):
        label = STANCES[k % 3]
        truth[f"u{k}|iran"], texts[f"u{k}"] = label, text([label], rng)
        data.append((f"u{k}", "iran", "x", [label]))
        if k < 30:
            data.append((f"u{k}", "iran", "y", [label]))
        data.append((f"u{k}", "iran", "z", [rng.choice(STANCES)]))
    return rows(data), texts, truth


def test_crowdlab_gold_ranks_the_random_annotator_last_and_beats_majority() -> None:
    frame, texts, truth = stance_case()
    result = gold_labels(frame, SCHEMA, "stance", GoldConfig(method="crowdlab"), texts)
    majority = gold_labels(frame, SCHEMA, "stance", GoldConfig(method="majority"))
    assert {g.method for g in result.items} == {"crowdlab"}
    crowd = sum(g.labels == (truth[g.unit],) for g in result.items) / len(truth)
    vote = sum(g.labels == (truth[g.unit],) for g in majority.items) / len(truth)
    assert crowd == 1.0 and vote < 1.0  # the ties z lost: CROWDLAB follows x, majority cannot tell
    assert result.annotators is not None and majority.annotators is None
    assert result.annotators.index[-1] == "z"
    assert result.annotators.loc["z", "quality"] < min(result.annotators.loc[["x", "y"], "quality"])
    assert result.annotators.loc["y", "items"] == 30
    # agreement is computed as for the other methods: the share of annotators who gave the gold label
    a0 = next(g for g in result.items if g.unit == "u0|iran")
    assert a0.n_annotators == 3 and a0.agreement == pytest.approx(
        sum(labels == ("favor",) for _, labels in a0.votes) / 3
    )


def test_a_unit_with_one_annotation_still_gets_crowdlabs_consensus() -> None:
    frame, texts, _ = stance_case()
    frame = pd.concat([frame, rows([("solo", "nato", "x", ["against"])])], ignore_index=True)
    texts["solo"] = text(["against"], random.Random(1))
    result = gold_labels(frame, SCHEMA, "stance", GoldConfig(method="crowdlab", min_annotators=1), texts)
    solo = next(g for g in result.items if g.unit == "solo|nato")
    assert solo.method == "crowdlab" and solo.labels == ("against",) and solo.n_annotators == 1
    assert solo.agreement == 1.0


def test_the_ground_truth_fallback_may_be_crowdlab() -> None:
    frame, texts, truth = stance_case()
    judge = rows([("u0", "iran", "judge", ["neutral"])], project="newslab/stance/review")
    config = GoldConfig(method="ground_truth", fallback="crowdlab")
    result = gold_labels(pd.concat([frame, judge], ignore_index=True), SCHEMA, "stance", config, texts)
    by_unit = {g.unit: g for g in result.items}
    assert by_unit["u0|iran"].method == "adjudicated" and by_unit["u0|iran"].labels == ("neutral",)
    assert by_unit["u31|iran"].method == "crowdlab" and by_unit["u31|iran"].labels == (truth["u31|iran"],)


def test_crowdlab_needs_texts_several_annotators_and_shared_units() -> None:
    frame, texts, _ = stance_case()
    config = GoldConfig(method="crowdlab")
    with pytest.raises(NewslabError, match="needs the articles' texts"):
        gold_labels(frame, SCHEMA, "stance", config)
    with pytest.raises(NewslabError, match=r"unit 'u3\|iran': CROWDLAB needs its article's text"):
        gold_labels(frame, SCHEMA, "stance", config, {k: v for k, v in texts.items() if k != "u3"})
    with pytest.raises(NewslabError, match=r"weighs several annotators.*from 1 \(x\)") as info:
        gold_labels(frame[frame["annotator"] == "x"], SCHEMA, "stance", config, texts)
    assert "majority" in info.value.hint
    disjoint = frame[(frame["annotator"] == "x") | frame["article_id"].eq("u0") & frame["annotator"].eq("y")]
    disjoint = disjoint[~(disjoint["article_id"].eq("u0") & disjoint["annotator"].eq("x"))]
    with pytest.raises(NewslabError, match="two or more annotators; none is"):
        gold_labels(disjoint, SCHEMA, "stance", config, texts)


def test_crowdlab_takes_no_weights() -> None:
    with pytest.raises(ValueError, match="CROWDLAB takes no per-annotation weights"):
        GoldConfig(method="crowdlab", accepted_predictions="weight")
    with pytest.raises(ValueError, match="CROWDLAB takes no per-annotation weights"):
        GoldConfig(method="ground_truth", fallback="crowdlab", accepted_predictions="weight")


def test_model_proba_is_out_of_fold_by_article() -> None:
    rng = random.Random(2)
    labels = [STANCES[k % 3] for k in range(30)] + ["unrelated", "unrelated"]
    texts = [text([label], rng) for label in labels[:30]] + ["zebra giraffe", "zebra giraffe"]
    groups = [f"a{k}" for k in range(30)] + ["zoo", "zoo"]  # both "unrelated" items in one article
    codes = [*STANCES, "unrelated"]
    proba = model_proba(texts, labels, codes, False, groups)
    assert proba.shape == (32, 4) and np.allclose(proba.sum(axis=1), 1)
    assert (proba[30:, 3] < 1e-4).all()  # its only examples were in its own, held-out article
    picked = proba[:30].argmax(axis=1)
    assert (picked == [k % 3 for k in range(30)]).mean() >= 0.9


def test_model_proba_multi_label_is_one_probability_per_code() -> None:
    rng = random.Random(3)
    sets = [("ASSAULT",), ("PROTEST",), ("ASSAULT", "PROTEST"), ()] * 8
    texts = [text(list(s), rng) for s in sets]
    proba = model_proba(texts, sets, ["ASSAULT", "PROTEST", "AGREE"], True, [f"a{k}" for k in range(32)])
    assert proba.shape == (32, 3) and (proba > 0).all() and (proba < 1).all()
    has = np.array([["ASSAULT" in s, "PROTEST" in s] for s in sets])
    assert ((proba[:, :2] > 0.5) == has).mean() >= 0.9
    assert (proba[:, 2] < 1e-4).all()  # AGREE was never given: no fold learnt it


def event_case() -> tuple[pd.DataFrame, dict[str, str], dict[str, tuple[str, ...]]]:
    """40 articles of event types: x and y right, z wrong on every other one; e30-e39 only x and z.

    (z is not random here: CROWDLAB weighs an annotator by agreement with the other annotators, and
    on a rare label a random one drags everybody's binary agreement down to the base rate.)"""
    rng = random.Random(4)
    options = [("ASSAULT",), ("PROTEST",), ("AGREE",), ("ASSAULT", "PROTEST"), ()]
    data, texts, truth = [], {}, {}
    for k in range(40):
        labels = options[k % 5]
        truth[f"e{k}"], texts[f"e{k}"] = labels, text(list(labels), rng)
        data.append((f"e{k}", "", "x", list(labels)))
        if k < 30:
            data.append((f"e{k}", "", "y", list(labels)))
        data.append((f"e{k}", "", "z", list(options[(k + 1) % 5] if k % 2 else labels)))
    return rows(data, "newslab/event_type"), texts, truth


def test_multi_label_crowdlab_per_code() -> None:
    frame, texts, truth = event_case()
    result = gold_labels(frame, SCHEMA, "event_type", GoldConfig(method="crowdlab"), texts)
    assert all(g.labels == truth[g.unit] for g in result.items)
    majority = gold_labels(frame, SCHEMA, "event_type", GoldConfig(method="majority"))
    assert sum(g.labels == truth[g.unit] for g in majority.items) < len(truth)
    assert result.annotators is not None and result.annotators.index[-1] == "z"
    assert set(result.annotators["worst_class"]) <= {"ASSAULT", "PROTEST", "AGREE"}


def test_multi_label_consensus_quality_is_the_least_sure_code_and_unanimous_codes_fall_back() -> None:
    votes = pd.DataFrame(
        [
            ("i1", "x", ("AGREE", "ASSAULT")),
            ("i1", "y", ("AGREE", "ASSAULT")),
            ("i2", "x", ("AGREE",)),
            ("i2", "y", ("AGREE", "ASSAULT")),
            ("i3", "x", ("AGREE",)),
            ("i3", "y", ("AGREE",)),
        ],
        columns=["item", "annotator", "label"],
    )
    proba = np.array([[0.9, 0.9, 0.1], [0.9, 0.5, 0.1], [0.9, 0.1, 0.1]])
    result = crowdlab_multilabel(votes, ["i1", "i2", "i3"], proba, ["AGREE", "ASSAULT", "PROTEST"])
    consensus = result.items["consensus_label"]
    assert consensus["i1"] == ("AGREE", "ASSAULT") and consensus["i3"] == ("AGREE",)
    assert result.items.index[0] == "i2"  # the one disputed label makes it the least sure item
    assert result.items.loc["i2", "annotator_agreement"] == pytest.approx((1 + 0.5 + 1) / 3)
    # AGREE (every vote) and PROTEST (no vote) are unanimous: only ASSAULT scores the annotators
    assert set(result.annotators["worst_class"]) == {"ASSAULT"}
    assert result.annotators["items"].tolist() == [3, 3]


def test_provisional_majority_breaks_ties_in_schema_order() -> None:
    frame = rows([("a", "t", "x", ["neutral"]), ("a", "t", "y", ["against"])]).assign(unit="a|t")
    assert provisional(frame, ["favor", "against", "neutral"], False) == {"a|t": "against"}


def test_annotator_quality_rows() -> None:
    frame, texts, _ = stance_case()
    quality = annotator_quality(frame, SCHEMA, "stance", texts)
    assert [r.name for r in quality][-1] == "z" and {r.name for r in quality} == {"x", "y", "z"}
    assert all(r.scope == "annotator" and r.metric == "crowdlab quality" for r in quality)
    assert all(math.isnan(r.low) and math.isnan(r.high) for r in quality)
    assert {r.name: r.n_units for r in quality} == {"x": 45, "y": 30, "z": 45}
    assert quality[0].value > quality[-1].value
    assert annotator_quality(frame[frame["annotator"] == "x"], SCHEMA, "stance", texts) == []
