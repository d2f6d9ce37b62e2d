from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.preprocessing import MultiLabelBinarizer

from newslab.errors import NewslabError
from newslab.schema import load_schema
from training.config import ModelConfig, load_experiment
from training.features import DedupTfidfVectorizer, PairSimilarity
from training.models import build_model, input_columns

SCHEMA = load_schema()

PAIRS = pd.DataFrame(
    {
        "target": [
            "missiles sold to russia",
            "football final",
            "missiles sold to russia",
            "new vaccine",
        ]
        * 5,
        "text": [
            "russia buys missiles from iran",
            "rain in london today",
            "officials deny any missiles were sold",
            "a vaccine was approved",
        ]
        * 5,
    }
)
Y = ["favor", "unrelated", "against", "neutral"] * 5


def test_dedup_vectorizer_equals_plain_rows() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["alpha beta gamma", "alpha beta", "alpha beta gamma", "delta"]
    dedup = DedupTfidfVectorizer().fit_transform(texts).toarray()
    assert (dedup[0] == dedup[2]).all()
    plain = TfidfVectorizer().fit(["alpha beta gamma", "alpha beta", "delta"]).transform(texts).toarray()
    assert (abs(dedup - plain) < 1e-12).all()


def test_pair_similarity_is_higher_for_related_pairs() -> None:
    features = PairSimilarity().fit(PAIRS).transform(PAIRS)
    assert features.shape == (20, 4)
    assert features[0, 0] > features[1, 0]  # shared words vs none


@pytest.mark.parametrize("kind", ["tfidf_lr", "tfidf_pair_lr"])
def test_single_label_models_predict_schema_codes(kind: str) -> None:
    config = ModelConfig(type=kind, params={"char_ngrams": True})
    model = build_model(config, SCHEMA.task("stance"), seed=0).fit(PAIRS[input_columns(config)], Y)
    assert set(model.classes_) <= set(SCHEMA.task("stance").codes)
    assert list(model.predict(PAIRS[input_columns(config)].head(4))) == Y[:4]


def test_multi_label_model() -> None:
    task = SCHEMA.task("event_type")
    labels = [["ASSAULT"], [], ["AGREE", "CONSULT"], ["AGREE"]] * 5
    binarizer = MultiLabelBinarizer(classes=task.codes)
    y = binarizer.fit_transform(labels)
    texts = pd.DataFrame(
        {
            "text": [
                "troops attacked the town",
                "weather is fine",
                "leaders met and signed a deal",
                "they signed an accord",
            ]
            * 5
        }
    )
    # labels never seen in training (most of the 18) must not break one-vs-rest
    model = build_model(ModelConfig(type="tfidf_lr"), task, seed=0).fit(texts, y)
    predicted = binarizer.inverse_transform(model.predict(texts.head(3)))
    assert [list(p) for p in predicted] == [["ASSAULT"], [], ["AGREE", "CONSULT"]]
    assert model.predict_proba(texts.head(1)).shape == (1, 18)


def test_unknown_config_key_is_refused_before_training(tmp_path: Path) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text("name: x\ntask: stance\ndataset: fnc1\nmodel:\n  type: tfidf_lr\n  params:\n    CC: 3\n")
    with pytest.raises(NewslabError) as err:
        load_experiment(path)
    assert str(path) in err.value.message and "model.params.CC" in err.value.message


def test_every_shipped_experiment_config_is_valid() -> None:
    for path in sorted((Path(__file__).parents[2] / "configs" / "experiments").glob("*.yaml")):
        config, _ = load_experiment(path)
        SCHEMA.task(config.task)
