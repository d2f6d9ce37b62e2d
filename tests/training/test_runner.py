"""The experiment runner: datasets made ready for a model (target names, language), and stop words."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from datasets import Dataset, DatasetDict

from core.schema import load_schema
from newslab_model.text_features import PairSimilarity, stop_words_for
from training.config import ModelConfig
from training.runner import fit_predict, from_dataset, target_texts

SCHEMA = load_schema()
STANCE = SCHEMA.task("stance")


def _dataset(targets: list[str], lang: str = "it") -> DatasetDict:
    n = len(targets)
    split = Dataset.from_dict(
        {
            "id": [str(i) for i in range(n)],
            "article_id": [f"a{i // 2}" for i in range(n)],
            "target": targets,
            "text": ["Gli Stati Uniti e l'Unione Europea hanno firmato un accordo."] * n,
            "label": [STANCE.codes.index(c) for c in (["favor", "against"] * n)[:n]],
            "lang": [lang] * n,
        }
    )
    return DatasetDict(train=split, test=split)


def test_schema_target_codes_are_read_as_their_name_and_aliases_in_the_language() -> None:
    texts = target_texts(SCHEMA, ["united_states", "russia", ""], "it")
    assert (
        texts["united_states"]
        == "United States Stati Uniti statunitense statunitensi USA Washington Casa Bianca"
    )
    assert texts["russia"].startswith("Russia russo russa")  # the name and its alias, once
    assert target_texts(SCHEMA, ["united_states"], "en")["united_states"].startswith(
        "United States U.S. US USA"
    )
    assert (
        target_texts(SCHEMA, ["united_states"], "fr")["united_states"] == "United States"
    )  # no aliases: the name
    # free text (FNC-1 headlines, conref's fixed target) stays as it is, even beside a code
    assert target_texts(SCHEMA, ["riforma costituzionale (referendum 2016)"], "it") == {}
    assert target_texts(SCHEMA, ["russia", "Russia sells missiles"], "en") == {}


def test_a_pair_model_reads_target_names_and_free_text_is_untouched() -> None:
    pair = ModelConfig(type="tfidf_pair_lr")
    coded = from_dataset(
        _dataset(["united_states", "european_union"] * 4), {}, Path("."), pair, STANCE, SCHEMA
    )
    assert coded.lang == "it" and coded.target_texts
    assert coded.train.x["target"].iloc[0].startswith("United States Stati Uniti")
    assert list(coded.ds["test"]["target"][:2]) == ["united_states", "european_union"]  # codes kept there
    free = from_dataset(_dataset(["Russia signs a deal"] * 8, "en"), {}, Path("."), pair, STANCE, SCHEMA)
    assert set(free.train.x["target"]) == {"Russia signs a deal"} and not free.target_texts
    text_only = from_dataset(
        _dataset(["russia"] * 8), {}, Path("."), ModelConfig(type="tfidf_lr"), STANCE, SCHEMA
    )
    assert list(text_only.train.x.columns) == ["text"]
    # named targets share words with the text, where codes shared none
    similarity = PairSimilarity(stop_words=stop_words_for("it")).fit(coded.train.x)
    assert similarity.transform(coded.train.x)[:, 1].min() > 0
    codes = coded.ds["train"].to_pandas()
    assert PairSimilarity().fit(codes).transform(codes)[:, 1].max() == 0


def test_stop_words_follow_the_training_language() -> None:
    assert stop_words_for("en") == "english"  # scikit-learn's list: English figures stay as they were
    italian = stop_words_for("it")
    assert isinstance(italian, list) and {"della", "questo", "il"} <= set(italian)
    assert stop_words_for("xx") is None and stop_words_for("zz") is None
    x = pd.DataFrame({"target": ["della riforma"], "text": ["la legge della scuola"]})
    assert PairSimilarity(stop_words=italian).fit(x).transform(x)[0, 1] == 0  # "della" is no overlap
    assert PairSimilarity(stop_words=None).fit(x).transform(x)[0, 1] == pytest.approx(0.5)


def test_the_runner_builds_pair_models_with_the_language_stop_words() -> None:
    pair = ModelConfig(type="tfidf_pair_lr")
    data = from_dataset(
        _dataset(["united_states", "european_union"] * 4), {}, Path("."), pair, STANCE, SCHEMA
    )
    fitted = fit_predict(data, seed=0, fit=data.train, x=data.test.x)
    similarity = fitted.model.named_steps["features"].named_transformers_["similarity"].named_steps["pair"]
    assert similarity.stop_words == stop_words_for("it") and len(fitted.predicted) == 8
