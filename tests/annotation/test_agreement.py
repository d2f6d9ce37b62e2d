"""Agreement figures against published worked examples and an independent implementation (NLTK)."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest
from nltk.metrics.agreement import AnnotationTask
from nltk.metrics.distance import masi_distance as nltk_masi

from annotation.agreement import (
    _alpha,
    agreement,
    alpha_binary,
    alpha_masi,
    alpha_nominal,
    bootstrap,
    heatmap,
    kappa,
    masi_distance,
    percent_agreement,
    reliability,
)
from core.errors import NewslabError
from core.schema import load_schema

SCHEMA = load_schema()


def frame(rows: list[tuple[str, str, list[str]]], target: str = "") -> pd.DataFrame:
    """Annotation rows (unit, annotator, labels) in the pulled table's shape."""
    return pd.DataFrame(
        [
            {
                "kind": "annotation",
                "project": "newslab/x",
                "article_id": unit,
                "target": target,
                "annotator": annotator,
                "labels": labels,
                "cancelled": False,
                "updated_at": "2026-01-01T00:00:00",
            }
            for unit, annotator, labels in rows
        ]
    )


def coded(table: dict[str, list], codes: dict) -> pd.DataFrame:
    """Rows from {annotator: [value per unit or None]}, values mapped to stance codes."""
    rows = [
        (f"u{j:02d}", annotator, [codes[v]])
        for annotator, values in table.items()
        for j, v in enumerate(values)
        if v is not None
    ]
    return frame(rows, target="russia")


def all_units(rel) -> np.ndarray:
    return np.arange(len(rel.units))


def test_krippendorff_reliability_data_example_nominal():
    # Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", 4 observers x 12 units,
    # with missing values: nominal alpha = 0.743.
    data = {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    }
    # five values are needed: the single-label stance task has four, so use event types as values
    codes = {1: "AGREE", 2: "CONSULT", 3: "SUPPORT", 4: "CONCEDE", 5: "COOPERATE"}
    rel = reliability(coded(data, codes), SCHEMA.task("event_type"))
    assert round(alpha_nominal(rel, all_units(rel)), 3) == 0.743


def test_krippendorff_binary_example():
    # Krippendorff (2011), two coders, ten units, binary data: alpha = 0.095.
    data = {"A": [0, 1, 0, 0, 0, 0, 0, 0, 1, 0], "B": [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]}
    rel = reliability(coded(data, {0: "against", 1: "favor"}), SCHEMA.task("stance"))
    assert round(alpha_nominal(rel, all_units(rel)), 3) == 0.095
    assert round(alpha_binary(rel, "favor", all_units(rel)), 3) == 0.095


def test_cohen_kappa_textbook_case():
    # Cohen's kappa, the Wikipedia worked example: 50 proposals, both yes 20, A yes/B no 5,
    # A no/B yes 10, both no 15 -> p_o = 0.70, p_e = 0.50, kappa = 0.40.
    a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    rel = reliability(coded({"A": a, "B": b}, {0: "against", 1: "favor"}), SCHEMA.task("stance"))
    assert kappa(rel, 0, 1, all_units(rel)) == pytest.approx(0.40)
    assert percent_agreement(rel, all_units(rel)) == pytest.approx(0.70)


@pytest.mark.parametrize(
    ("a", "b"),
    [({"A"}, {"A"}), ({"A"}, {"A", "B"}), ({"A", "C"}, {"A", "B"}), ({"A"}, {"B"}), ({"A", "B", "C"}, {"C"})],
)
def test_masi_distance_matches_nltk(a, b):
    assert masi_distance(frozenset(a), frozenset(b)) == pytest.approx(nltk_masi(set(a), set(b)))


def test_masi_alpha_matches_nltk_on_random_multilabel_data():
    rng = random.Random(7)
    labels = ["AGREE", "CONSULT", "ASSAULT", "PROTEST"]
    rows = []
    for unit in range(40):
        truth = set(rng.sample(labels, rng.randint(1, 2)))
        for annotator in ("a", "b", "c"):
            given = set(truth)
            if rng.random() < 0.3:
                given ^= {rng.choice(labels)}
            rows.append((f"u{unit}", annotator, sorted(given or {labels[0]})))
    rel = reliability(frame(rows), SCHEMA.task("event_type"))
    ours = alpha_masi(rel, all_units(rel))
    nltk_task = AnnotationTask(data=[(a, u, frozenset(labs)) for u, a, labs in rows], distance=nltk_masi)
    assert ours == pytest.approx(nltk_task.alpha(), abs=1e-9)
    assert 0 < ours < 1


def test_perfect_agreement_and_interval():
    rows = [(f"u{i}", who, [("favor", "against", "neutral")[i % 3]]) for i in range(30) for who in "ab"]
    report = agreement(frame(rows, "iran"), SCHEMA, "stance", n_boot=200, seed=1)
    overall = {r.metric: r for r in report.rows if r.scope == "overall"}
    assert overall["alpha_nominal"].value == 1.0
    assert (overall["alpha_nominal"].low, overall["alpha_nominal"].high) == (1.0, 1.0)
    assert overall["percent"].value == 1.0
    assert report.n_units == 30 and report.n_annotators == 2


def test_report_has_every_scope_and_the_interval_brackets_the_value(tmp_path):
    rng = random.Random(3)
    codes = ["favor", "against", "neutral", "unrelated"]
    rows = []
    for unit in range(60):
        truth = rng.choice(codes)
        for who in ("ann", "bob", "cy"):
            if who == "cy" and unit % 2:
                continue  # cy annotated half of the units
            rows.append((f"u{unit}", who, [truth if rng.random() < 0.8 else rng.choice(codes)]))
    report = agreement(frame(rows, "nato"), SCHEMA, "stance", n_boot=300, seed=0)
    scopes = {(r.scope, r.metric) for r in report.rows}
    assert {
        ("overall", "alpha_nominal"),
        ("overall", "percent"),
        ("label", "alpha_binary"),
        ("pair", "kappa"),
        ("annotator", "kappa"),
        ("annotator", "percent"),
    } <= scopes
    pairs = {r.name: r for r in report.rows if r.scope == "pair"}
    assert set(pairs) == {"ann | bob", "ann | cy", "bob | cy"}
    assert pairs["ann | cy"].n_units == 30
    for row in report.rows:
        if not math.isnan(row.low):
            assert row.low <= row.value + 1e-9 and row.value <= row.high + 1e-9, row
    again = agreement(frame(rows, "nato"), SCHEMA, "stance", n_boot=300, seed=0)
    assert again.rows == report.rows  # seeded: reproducible
    png = heatmap(report, tmp_path / "kappa.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report.kappa_matrix().loc["ann", "bob"] == pairs["ann | bob"].value


def test_skipped_review_and_superseded_annotations_do_not_count():
    rows = frame(
        [("u1", "a", ["favor"]), ("u1", "b", ["favor"]), ("u2", "a", ["favor"]), ("u2", "b", ["against"])]
    )
    extra = frame([("u2", "b", ["favor"]), ("u1", "b", ["against"]), ("u1", "judge", ["against"])])
    extra.loc[0, "updated_at"] = "2026-02-01T00:00:00"  # b changed their mind on u2: the latest counts
    extra.loc[1, "cancelled"] = True  # a skip
    extra.loc[2, "project"] = "newslab/stance/review"  # an adjudication, not an annotator
    rel = reliability(pd.concat([rows, extra]), SCHEMA.task("stance"))
    assert rel.annotators == ["a", "b"]
    assert percent_agreement(rel, np.arange(len(rel.units))) == 1.0


def test_one_annotator_is_a_clear_error():
    with pytest.raises(NewslabError, match="two or more annotators; found 1"):
        agreement(frame([("u1", "a", ["favor"])]), SCHEMA, "stance")


def test_bootstrap_is_seeded_and_percentile():
    units = np.arange(100)
    value, low, high = bootstrap(lambda c: float(np.mean(c)), units, n_boot=500, seed=4)
    assert value == 49.5 and low < value < high
    assert bootstrap(lambda c: float(np.mean(c)), units, n_boot=500, seed=4) == (value, low, high)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alpha_equals_the_krippendorff_package_on_random_data(seed: int) -> None:
    import krippendorff

    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 5, size=(4, 60))
    codes[rng.random(codes.shape) < 0.3] = -1  # missing values
    data = np.where(codes >= 0, codes, np.nan).astype(float)
    expected = krippendorff.alpha(
        reliability_data=data, level_of_measurement="nominal", value_domain=range(5)
    )
    assert _alpha(codes, 1 - np.eye(5)) == pytest.approx(expected, abs=1e-12)
    # with an arbitrary distance matrix, as krippendorff's callable metric
    d = rng.random((5, 5))
    d = (d + d.T) / 2
    np.fill_diagonal(d, 0)
    expected = krippendorff.alpha(
        reliability_data=data,
        value_domain=range(5),
        level_of_measurement=lambda v1, v2, i1, i2, n_v, dtype: d[i1, i2],
    )
    assert _alpha(codes, d) == pytest.approx(expected, abs=1e-12)


def test_cli_prints_the_table_and_writes_csv_and_heatmap(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import run_cli

    rows = [
        (f"u{i}", who, [("favor", "against")[(i + (who == "b" and i % 5 == 0)) % 2]])
        for i in range(40)
        for who in "ab"
    ]
    data = tmp_path / "data"
    (data / "annotations").mkdir(parents=True)
    frame(rows, "iran").to_parquet(data / "annotations" / "stance.parquet")
    done = run_cli("annotate", "agreement", "--bootstrap", "50", env={"NEWSLAB_DATA_DIR": str(data)})
    assert done.returncode == 0, done.stderr
    assert "alpha_nominal" in done.stdout and "a | b" in done.stdout
    table = pd.read_csv(data / "annotations" / "agreement" / "stance.csv")
    percent = table[(table.scope == "overall") & (table.metric == "percent")].value.item()
    assert percent == pytest.approx(32 / 40)
    assert (data / "annotations" / "agreement" / "stance_kappa.png").stat().st_size > 1000
    missing = run_cli("annotate", "agreement", env={"NEWSLAB_DATA_DIR": str(tmp_path / "empty")})
    assert missing.returncode == 1 and "newslab annotate pull" in missing.stderr


def test_accepted_predictions_are_left_out_of_agreement_when_asked() -> None:
    # x and y both accepted the model's "favor" on u0-u2 (they agree with the model); on u3-u5
    # they annotated from scratch and disagree on two
    rows = [(f"u{k}", who, ["favor"]) for k in range(3) for who in "xy"]
    rows += [("u3", "x", ["favor"]), ("u3", "y", ["favor"]), ("u4", "x", ["against"]), ("u4", "y", ["favor"])]
    rows += [("u5", "x", ["neutral"]), ("u5", "y", ["against"])]
    table = frame(rows, target="iran")
    table["origin"] = ["accepted"] * 6 + ["from_scratch"] * 6
    table["model_version"] = ["tfidf-v1"] * 6 + [""] * 6

    def percent(report) -> float:  # type: ignore[no-untyped-def]
        return next(r.value for r in report.rows if r.scope == "overall" and r.metric == "percent")

    kept = agreement(table, SCHEMA, "stance", n_boot=0)
    assert (kept.n_units, percent(kept)) == (6, pytest.approx(4 / 6))
    for option in ("exclude", "weight"):
        left = agreement(table, SCHEMA, "stance", n_boot=0, accepted_predictions=option)
        assert (left.n_units, percent(left)) == (3, pytest.approx(1 / 3))
    # a table pulled before provenance was recorded: nothing is known to be accepted
    old = table.drop(columns=["origin", "model_version"])
    assert agreement(old, SCHEMA, "stance", n_boot=0, accepted_predictions="exclude").n_units == 6
    only = table.iloc[:6]
    with pytest.raises(
        NewslabError, match="once annotations that accepted a prediction unchanged are left out"
    ):
        agreement(only, SCHEMA, "stance", n_boot=0, accepted_predictions="exclude")


def test_cli_adds_crowdlab_quality_per_annotator_when_the_articles_are_in_the_store(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from corpus.ingest import ingest
    from corpus.store import Store
    from tests.conftest import run_cli

    data = tmp_path / "data"
    words = ["army", "talks", "border", "treaty", "summit", "missile", "court", "vote", "trade", "oil"]
    source = tmp_path / "a.jsonl"
    source.write_text(
        "".join(
            json.dumps({"title": f"t{i}", "text": " ".join(words[(i + k) % 10] + str(k) for k in range(40))})
            + "\n"
            for i in range(30)
        )
    )
    ingest([source], root=data / "corpus")
    ids = sorted(Store(data / "corpus").table(["id"]).column("id").to_pylist())
    truth = [("favor", "against")[i % 2] for i in range(30)]
    # a and b label every article as the truth has it; c answers the opposite on every third
    rows = [(unit, who, [truth[i]]) for i, unit in enumerate(ids) for who in "ab"]
    rows += [(unit, "c", [truth[i] if i % 3 else ("against", "favor")[i % 2]]) for i, unit in enumerate(ids)]
    (data / "annotations").mkdir(parents=True)
    frame(rows, "iran").to_parquet(data / "annotations" / "stance.parquet")
    done = run_cli("annotate", "agreement", "--bootstrap", "20", env={"NEWSLAB_DATA_DIR": str(data)})
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(data / "annotations" / "agreement" / "stance.csv")
    quality = table[table.metric == "crowdlab quality"].set_index("name")["value"]
    assert set(quality.index) == {"a", "b", "c"}
    assert quality["c"] < min(quality["a"], quality["b"])
