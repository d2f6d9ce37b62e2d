"""``tfidf_lr`` (the text) and ``tfidf_pair_lr`` (a target or headline and the text): TF-IDF
features and a linear classifier (``params.classifier`` picks it; the names say lr)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from core.errors import NewslabError
from core.schema import Task
from newslab_model.embeddings import PairEmbeddingSimilarity, SentenceEmbedder
from newslab_model.text_features import (
    AUTHOR_COLUMN,
    AuthorOneHot,
    DedupTfidfVectorizer,
    DefaultColumns,
    PairSimilarity,
    stop_words_for,
)
from newslab_model.tuned import TunedBiasClassifier, TunedThresholdOneVsRest
from training import flavours
from training.families._shared import check_tune_bias, tuned_bias
from training.registry import Family, register, type_names

if TYPE_CHECKING:
    from training.config import ModelConfig


class TfidfLinearParams(BaseModel):
    """Word (and optionally character) TF-IDF features and a linear classifier."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    word_ngram_max: int = Field(2, ge=1, le=3)
    char_ngrams: bool = False
    char_ngram_max: int = Field(5, ge=2, le=6)
    min_df: int = Field(1, ge=1)
    max_features: int | None = Field(200_000, ge=1)
    #: lr: logistic regression; svm: linear SVM with calibrated probabilities (Platt, 3-fold);
    #: cnb: complement naive Bayes
    classifier: Literal["lr", "svm", "cnb"] = "lr"
    C: float = Field(4.0, gt=0)  #: lr and svm
    alpha: float = Field(0.3, gt=0)  #: cnb smoothing
    class_weight: Literal["balanced"] | None = None
    max_iter: int = Field(2000, ge=10)
    #: multi-label only: one decision threshold per label, tuned on out-of-fold predictions
    tune_thresholds: bool = True
    #: single-label only: per-class biases added to the log-probabilities, tuned on out-of-fold
    #: predictions of the training data to maximise this metric (rare classes gain recall)
    tune_bias: str | None = None
    #: add MiniLM sentence embeddings of the text (tfidf_lr), or the embedding similarity of
    #: target and text (tfidf_pair_lr); optional extra: `make embeddings`; English
    embeddings: bool = False
    embeddings_weight: float = Field(1.0, gt=0)
    #: tfidf_pair_lr: refuting and hedging word counts (English) in target, lead and text
    cue_features: bool = False
    #: read the item's author (a tweet's account, an article's byline) beside
    #: the text, one-hot, scaled by author_weight; authors unseen in training add nothing
    author: bool = False
    author_weight: float = Field(1.0, gt=0)


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


def _build(pair: bool):  # type: ignore[no-untyped-def]
    def build(model: ModelConfig, task: Task, seed: int, lang: str) -> Pipeline:
        p = model.params
        assert isinstance(p, TfidfLinearParams)
        check_tune_bias(p.tune_bias, task)
        columns = [("text", _text_features(p), "text")]
        if p.author:
            columns.append(("author", AuthorOneHot(AUTHOR_COLUMN, p.author_weight), [AUTHOR_COLUMN]))
        if p.embeddings and not pair:
            columns.append(("embeddings", SentenceEmbedder(weight=p.embeddings_weight), ["text"]))
        if p.embeddings and pair:
            embedded = Pipeline([("pair", PairEmbeddingSimilarity()), ("scale", StandardScaler())])
            columns.append(("embedding_similarity", embedded, ["target", "text"]))
        if pair:
            overlap = PairSimilarity(cues=p.cue_features, stop_words=stop_words_for(lang))
            similarity = Pipeline([("pair", overlap), ("scale", StandardScaler())])
            columns.append(("target", _text_features(p), "target"))
            columns.append(("similarity", similarity, ["target", "text"]))
        if p.classifier == "cnb" and pair:
            raise NewslabError(
                "model: complement naive Bayes needs non-negative features; use it with tfidf_lr."
            )
        classifier = _classifier(p, seed, calibrate=not task.multi_label)
        if task.multi_label:  # rare labels are common here: calibration folds would lack positives
            cv = 3 if p.tune_thresholds else 0
            classifier = TunedThresholdOneVsRest(classifier, cv=cv, random_state=seed)
        elif p.tune_bias:
            classifier = tuned_bias(classifier, p.tune_bias, task, seed)
        steps: list = [("features", ColumnTransformer(columns)), ("classifier", classifier)]
        if p.author:  # the author is optional at prediction time: without one the text decides
            steps.insert(0, ("inputs", DefaultColumns({AUTHOR_COLUMN: ""})))
        return Pipeline(steps)

    return build


def _columns(pair: bool):  # type: ignore[no-untyped-def]
    def columns(p: TfidfLinearParams) -> list[str]:
        return (["target", "text"] if pair else ["text"]) + ([AUTHOR_COLUMN] if p.author else [])

    return columns


def _requirements(p: TfidfLinearParams) -> list[str]:
    return flavours.SKLEARN_REQUIREMENTS + (flavours.EMBEDDING_REQUIREMENTS if p.embeddings else [])


TRUSTED = (
    *type_names(
        DedupTfidfVectorizer,
        PairSimilarity,
        AuthorOneHot,
        DefaultColumns,
        TunedThresholdOneVsRest,
        TunedBiasClassifier,
        SentenceEmbedder,
        PairEmbeddingSimilarity,
    ),
    # scikit-learn's own helpers inside calibrated and one-vs-rest models
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.multiclass._ConstantPredictor",
)

for _name, _pair in (("tfidf_lr", False), ("tfidf_pair_lr", True)):
    register(
        Family(
            name=_name,
            params=TfidfLinearParams,
            build=_build(_pair),
            columns=_columns(_pair),
            flavour=flavours.SKLEARN,
            requirements=_requirements,
            trusted_types=TRUSTED,
        )
    )
