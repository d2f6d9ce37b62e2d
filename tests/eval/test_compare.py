"""Paired comparison: hand-computed cases, and two real runs read back from MLflow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import metrics
from core.assets import fetch
from core.errors import NewslabError
from core.settings import Settings
from dataset.build import build
from eval.compare import align, compare_runs, mcnemar_test, paired_bootstrap, verdict
from tests.eval.conftest import train_conref_pair
from training.train import train


def test_mcnemar_hand_cases() -> None:
    right_a = np.array([True] * 30 + [False] * 10)
    right_b = np.array([True] * 20 + [False] * 10 + [False] * 10)
    a_only, b_only, p = mcnemar_test(right_a, right_b)
    # 10 discordant items, all for A: exact binomial two-sided p = 2 * 0.5**10
    assert (a_only, b_only) == (10, 0) and p == pytest.approx(2 * 0.5**10)
    assert mcnemar_test(right_a, right_a)[2] == 1.0


def test_paired_bootstrap_of_identical_and_better_predictions() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    roles = metrics.Roles(codes=("a", "b", "c"), multi_label=False, unrelated=(), polar=())
    diff, low, high, p = paired_bootstrap(y, y.copy(), y.copy(), roles, n_boot=200)
    assert (diff, low, high, p) == (0.0, 0.0, 0.0, 1.0)
    noisy = np.where(rng.random(300) < 0.4, (y + 1) % 3, y)
    diff, low, high, p = paired_bootstrap(y, y.copy(), noisy, roles, n_boot=300)
    assert diff > 0.3 and low > 0 and p < 0.01


def test_verdict_keeps_the_sign_without_a_winner_and_bounds_a_zero_p() -> None:
    tie = verdict("lr", "cnb", -0.012, -0.05, 0.03, 0.41, 0.6)
    assert "No significant difference between lr and cnb: A - B = -0.012 macro-F1" in tie
    assert "(95 % CI -0.050 to +0.030); bootstrap p = 0.41, McNemar p = 0.6." in tie
    clear = verdict("lr", "cnb", -0.2, -0.25, -0.15, 0.0, 1e-5, n_boot=1000)
    assert clear.startswith("cnb is better than lr by 0.200 macro-F1")
    assert "bootstrap p < 0.001 (1/1000), McNemar p = 1e-05" in clear and "p = 0," not in clear
    assert "bootstrap p < 0.005 (1/200)" in verdict("lr", "cnb", 0.2, 0.1, 0.3, 0.0, 0.5, n_boot=200)


@pytest.mark.parametrize(
    ("p_boot", "p_mc", "kind"),
    [(0.0, 1e-4, "is better than"), (0.01, 0.4, "the tests disagree"), (0.3, 0.4, "No significant")],
)
@pytest.mark.parametrize("diff", [0.012, -0.012])
def test_every_verdict_gives_the_signed_difference(
    p_boot: float, p_mc: float, kind: str, diff: float
) -> None:
    text = verdict("lr", "cnb", diff, diff - 0.01, diff + 0.01, p_boot, p_mc, n_boot=1000)
    assert kind in text and f"A - B = {diff:+.3f}" in text  # "+0.012" or "-0.012", never bare
    assert ("p < 0.001 (1/1000)" in text) == (p_boot == 0) and "p = 0," not in text


def test_different_test_items_are_refused() -> None:
    a = pd.DataFrame({"id": ["x1", "x2"], "gold": ["favor", "against"], "pred": ["favor", "favor"]})
    b = pd.DataFrame({"id": ["x1", "x3"], "gold": ["favor", "against"], "pred": ["favor", "favor"]})
    with pytest.raises(NewslabError, match=r"different items .* only in A: x2; only in B: x3"):
        align(a, b, "aaaaaaaa", "bbbbbbbb")
    c = b.assign(id=["x1", "x2"], gold=["favor", "neutral"])
    with pytest.raises(NewslabError, match="different gold labels for 1 item"):
        align(a, c, "aaaaaaaa", "cccccccc")


@pytest.mark.slow
def test_compare_two_real_runs_gives_a_p_value_and_a_verdict(
    settings: Settings, shared: Path, tmp_path: Path
) -> None:
    fetch(["cameo_pentacode"])
    runs = train_conref_pair(tmp_path)
    result = compare_runs(*runs, n_boot=300)
    assert result.n_items == 167 and 0 <= result.p_mcnemar <= 1 and 0 <= result.p_bootstrap <= 1
    assert result.diff == pytest.approx(result.macro_f1_a - result.macro_f1_b)
    assert (
        result.name_a == "lr"
        and "cnb" in result.verdict
        and f"McNemar p = {result.p_mcnemar:.3g}" in result.verdict
    )
    significant = [p < 0.05 for p in (result.p_bootstrap, result.p_mcnemar)]
    expected = "is better than" if all(significant) else "disagree" if any(significant) else "No significant"
    assert expected in result.verdict

    build("cameo_pentacode", limit=50)
    config = tmp_path / "cameo.yaml"
    config.write_text(
        "name: cameo\ntask: event_quad\ndataset: cameo_pentacode_n50\nmodel: {type: tfidf_lr}\n"
    )
    other = train(config).run_id
    with pytest.raises(NewslabError, match="different label sets"):
        compare_runs(runs[0], other)
