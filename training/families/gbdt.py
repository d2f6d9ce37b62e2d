"""``gbdt`` (the text) and ``gbdt_pair`` (a target and the text): gradient boosting on engineered
dense features, where trees beat linear models on a few strong, interacting signals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from core.errors import NewslabError
from core.schema import Task
from newslab_model.embeddings import PairEmbeddingSimilarity, SentenceEmbedder
from newslab_model.sentence_match import SentenceMatch
from newslab_model.text_features import (
    DedupTfidfVectorizer,
    LengthFeatures,
    Lsa,
    PairSimilarity,
    stop_words_for,
)
from newslab_model.tuned import StagedHistGradientBoosting, TunedBiasClassifier, TunedThresholdOneVsRest
from training import flavours
from training.families._shared import check_tune_bias, tuned_bias
from training.registry import Family, register, type_names

if TYPE_CHECKING:
    from training.config import ModelConfig


class GbdtParams(BaseModel):
    """Gradient boosting (scikit-learn's HistGradientBoostingClassifier) on engineered dense
    features: a truncated SVD of the text's TF-IDF, length features, and for ``gbdt_pair`` the
    same for the target plus target/text similarity and overlap (whole text and lead)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    svd_components: int = Field(100, ge=2, le=1000)
    word_ngram_max: int = Field(2, ge=1, le=3)
    max_features: int | None = Field(100_000, ge=1)
    learning_rate: float = Field(0.1, gt=0, le=1)
    max_iter: int = Field(300, ge=10)
    max_leaf_nodes: int = Field(31, ge=2)
    l2_regularization: float = Field(0.0, ge=0)
    class_weight: Literal["balanced"] | None = None
    #: single-label only: per-class biases tuned on out-of-fold predictions (see TfidfLinearParams)
    tune_bias: str | None = None
    tune_thresholds: bool = True  #: multi-label only
    #: add the MiniLM embedding similarity of target and text (gbdt_pair; optional extra)
    embeddings: bool = False
    #: gbdt_pair: refuting and hedging word counts (English) in target, lead and text
    cue_features: bool = False
    #: gbdt_pair: match the target against each sentence of the text (MiniLM; optional extra):
    #: cosine distribution, denying and reporting words in the closest sentences
    sentence_match: bool = False
    #: gbdt_pair with sentence_match: PCA components of the target-sentence interaction vectors
    interactions: int = Field(0, ge=0, le=256)


def _check(p: GbdtParams, pair: bool, task: Task) -> None:
    """Settings that would do nothing are refused before anything trains."""
    if p.sentence_match and not pair:
        raise NewslabError("model: sentence_match matches a target against the text; use it with gbdt_pair.")
    if p.interactions and not p.sentence_match:
        raise NewslabError("model: interactions are components of sentence_match; set sentence_match: true.")
    check_tune_bias(p.tune_bias, task)


def _build(pair: bool):  # type: ignore[no-untyped-def]
    def build(model: ModelConfig, task: Task, seed: int, lang: str) -> Pipeline:
        p = model.params
        assert isinstance(p, GbdtParams)
        _check(p, pair, task)
        lsa = Lsa(p.svd_components, p.word_ngram_max, p.max_features, seed)
        columns: list = [("text", lsa, "text"), ("text_length", LengthFeatures("text"), ["text"])]
        if pair:
            overlap = PairSimilarity(cues=p.cue_features, stop_words=stop_words_for(lang))
            columns += [
                ("target", clone(lsa), "target"),
                ("target_length", LengthFeatures("target"), ["target"]),
                ("similarity", overlap, ["target", "text"]),
            ]
            if p.embeddings:
                columns.append(("embedding_similarity", PairEmbeddingSimilarity(), ["target", "text"]))
            if p.sentence_match:
                match = SentenceMatch(interactions=p.interactions, seed=seed)
                columns.append(("sentence_match", match, ["target", "text"]))
        trees = StagedHistGradientBoosting(  # progress per chunk of iterations
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
            classifier = tuned_bias(trees, p.tune_bias, task, seed)
        return Pipeline([("features", ColumnTransformer(columns)), ("classifier", classifier)])

    return build


def _requirements(p: GbdtParams) -> list[str]:
    needs_encoder = p.embeddings or p.sentence_match
    return flavours.SKLEARN_REQUIREMENTS + (flavours.EMBEDDING_REQUIREMENTS if needs_encoder else [])


TRUSTED = (
    *type_names(
        DedupTfidfVectorizer,
        Lsa,
        LengthFeatures,
        PairSimilarity,
        PairEmbeddingSimilarity,
        SentenceEmbedder,
        SentenceMatch,
        TunedThresholdOneVsRest,
        TunedBiasClassifier,
        StagedHistGradientBoosting,
    ),
    "sklearn.multiclass._ConstantPredictor",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)

for _name, _pair in (("gbdt", False), ("gbdt_pair", True)):
    register(
        Family(
            name=_name,
            params=GbdtParams,
            build=_build(_pair),
            columns=(lambda p: ["target", "text"]) if _pair else (lambda p: ["text"]),
            flavour=flavours.SKLEARN,
            requirements=_requirements,
            trusted_types=TRUSTED,
        )
    )
