"""Model builders: a config's ``model`` section to an unfitted scikit-learn pipeline.

Every model takes a pandas DataFrame (``text``, and ``target`` for pair models)
and predicts label codes of the schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from core import metrics
from core.errors import NewslabError
from core.schema import Task
from training.config import GbdtParams, ModelConfig, TfidfLinearParams
from training.features import (
    AuthorOneHot,
    DedupTfidfVectorizer,
    DefaultColumns,
    LengthFeatures,
    Lsa,
    PairEmbeddingSimilarity,
    PairSimilarity,
    SentenceEmbedder,
    TunedBiasClassifier,
    TunedThresholdOneVsRest,
)
from training.sentence_match import SentenceMatch

if TYPE_CHECKING:
    from training.spacy_textcat import SpacyTextClassifier

PAIR_TYPES = ("tfidf_pair_lr", "gbdt_pair")


#: the dataset column an ``author: true`` model reads beside the text
AUTHOR_COLUMN = "author"


def input_columns(model: ModelConfig) -> list[str]:
    """The dataset columns a model reads."""
    columns = ["target", "text"] if model.type in PAIR_TYPES else ["text"]
    if getattr(model.params, "author", False):
        columns.append(AUTHOR_COLUMN)
    return columns


def _gbdt(model: ModelConfig, task: Task, seed: int) -> Pipeline:
    p = model.params
    assert isinstance(p, GbdtParams)
    lsa = Lsa(p.svd_components, p.word_ngram_max, p.max_features, seed)
    columns: list = [("text", lsa, "text"), ("text_length", LengthFeatures("text"), ["text"])]
    if model.type == "gbdt_pair":
        columns += [
            ("target", clone(lsa), "target"),
            ("target_length", LengthFeatures("target"), ["target"]),
            ("similarity", PairSimilarity(cues=p.cue_features), ["target", "text"]),
        ]
        if p.embeddings:
            columns.append(("embedding_similarity", PairEmbeddingSimilarity(), ["target", "text"]))
        if p.sentence_match:
            match = SentenceMatch(interactions=p.interactions, seed=seed)
            columns.append(("sentence_match", match, ["target", "text"]))
    trees = HistGradientBoostingClassifier(
        learning_rate=p.learning_rate,
        max_iter=p.max_iter,
        max_leaf_nodes=p.max_leaf_nodes,
        l2_regularization=p.l2_regularization,
        class_weight=p.class_weight,
        early_stopping=False,
        random_state=seed,
    )
    classifier: object = trees
    if task.multi_label:
        classifier = TunedThresholdOneVsRest(trees, cv=3 if p.tune_thresholds else 0, random_state=seed)
    elif p.tune_bias:
        classifier = _tuned_bias(trees, p.tune_bias, task, seed)
    return Pipeline([("features", ColumnTransformer(columns)), ("classifier", classifier)])


def _classifier(p: TfidfLinearParams, seed: int, calibrate: bool = True):  # type: ignore[no-untyped-def]
    if p.classifier == "cnb":
        return ComplementNB(alpha=p.alpha)
    if p.classifier == "svm":
        svm = LinearSVC(C=p.C, class_weight=p.class_weight, max_iter=p.max_iter, random_state=seed)
        if not calibrate:  # multi-label: per-label thresholds on the decision function instead
            return svm
        return CalibratedClassifierCV(svm, cv=3, ensemble=False)  # one SVM fitted on all the data
    return LogisticRegression(C=p.C, class_weight=p.class_weight, max_iter=p.max_iter, random_state=seed)


def _text_features(p: TfidfLinearParams) -> FeatureUnion | DedupTfidfVectorizer:
    word = DedupTfidfVectorizer(
        ngram_range=(1, p.word_ngram_max),
        min_df=p.min_df,
        max_features=p.max_features,
        sublinear_tf=True,
        strip_accents="unicode",
    )
    if not p.char_ngrams:
        return word
    char = DedupTfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, p.char_ngram_max),
        min_df=max(p.min_df, 2),
        max_features=p.max_features,
        sublinear_tf=True,
    )
    return FeatureUnion([("word", word), ("char", char)])


def check_model(model: ModelConfig, task: Task) -> None:
    """What the schema task or the model type makes impossible, refused before anything trains."""
    p = model.params
    if getattr(p, "sentence_match", False) and model.type != "gbdt_pair":
        raise NewslabError("model: sentence_match matches a target against the text; use it with gbdt_pair.")
    if getattr(p, "interactions", 0) and not getattr(p, "sentence_match", False):
        raise NewslabError("model: interactions are components of sentence_match; set sentence_match: true.")
    tune_bias = getattr(model.params, "tune_bias", None)
    if not tune_bias:
        return
    if task.multi_label:
        raise NewslabError(
            "model: tune_bias is for single-label tasks; multi-label models tune a threshold per label "
            "(tune_thresholds)."
        )
    metrics.check([tune_bias], task, "model.params.tune_bias")


def _tuned_bias(estimator, metric: str, task: Task, seed: int) -> TunedBiasClassifier:  # type: ignore[no-untyped-def]
    """Per-class biases tuned for ``metric``; the labels it reads are the schema's flagged ones."""
    return TunedBiasClassifier(
        estimator,
        metric=metric,
        cv=3,
        random_state=seed,
        unrelated=tuple(label.code for label in task.labels if not label.related),
        polar=tuple(label.code for label in task.labels if label.polar),
    )


def build_model(
    model: ModelConfig, task: Task, seed: int, lang: str = "en"
) -> Pipeline | SpacyTextClassifier:
    check_model(model, task)
    if model.type == "spacy_textcat":  # spaCy is imported only for the models that use it
        from training.spacy_textcat import SpacyTextClassifier

        # the config's params are the estimator's own arguments
        params = model.params.model_dump()
        return SpacyTextClassifier(task.codes, task.multi_label, lang, seed=seed, **params)
    if model.type in ("gbdt", "gbdt_pair"):
        return _gbdt(model, task, seed)
    p = model.params
    columns = [("text", _text_features(p), "text")]
    if p.author:
        columns.append(("author", AuthorOneHot(AUTHOR_COLUMN, p.author_weight), [AUTHOR_COLUMN]))
    if p.embeddings and model.type == "tfidf_lr":
        columns.append(("embeddings", SentenceEmbedder(weight=p.embeddings_weight), ["text"]))
    if p.embeddings and model.type == "tfidf_pair_lr":
        similarity = Pipeline([("pair", PairEmbeddingSimilarity()), ("scale", StandardScaler())])
        columns.append(("embedding_similarity", similarity, ["target", "text"]))
    if model.type == "tfidf_pair_lr":
        columns += [
            ("target", _text_features(p), "target"),
            (
                "similarity",
                Pipeline([("pair", PairSimilarity(cues=p.cue_features)), ("scale", StandardScaler())]),
                ["target", "text"],
            ),
        ]
    if p.classifier == "cnb" and model.type == "tfidf_pair_lr":
        raise NewslabError("model: complement naive Bayes needs non-negative features; use it with tfidf_lr.")
    classifier = _classifier(p, seed, calibrate=not task.multi_label)
    if task.multi_label:  # rare labels are common here: calibration folds would lack positives
        classifier = TunedThresholdOneVsRest(classifier, cv=3 if p.tune_thresholds else 0, random_state=seed)
    elif p.tune_bias:
        classifier = _tuned_bias(classifier, p.tune_bias, task, seed)
    steps: list = [("features", ColumnTransformer(columns)), ("classifier", classifier)]
    if p.author:  # the author is optional at prediction time: without one the text decides
        steps.insert(0, ("inputs", DefaultColumns({AUTHOR_COLUMN: ""})))
    return Pipeline(steps)


def fit_params(model: Pipeline | SpacyTextClassifier, groups: list[str] | None) -> dict:
    """Extra arguments of ``model.fit``: leakage groups (article ids) for a bias-tuned classifier's folds."""
    tuned = isinstance(model, Pipeline) and isinstance(model.named_steps["classifier"], TunedBiasClassifier)
    return {"classifier__groups": list(groups)} if tuned and groups is not None else {}
