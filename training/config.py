"""Experiment configs: task, dataset, model and hyperparameters, validated before any training."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.errors import NewslabError
from core.settings import get_settings
from core.yamlio import load_model, read_yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TfidfLinearParams(_Strict):
    """Word (and optionally character) TF-IDF features and a linear classifier."""

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


class SpacyTextcatParams(_Strict):
    """spaCy textcat / textcat_multilabel trained from scratch (see training/spacy_textcat.py)."""

    #: bow: bag of n-grams (spacy.TextCatBOW.v3); ensemble: that plus a CNN (spacy.TextCatEnsemble.v2)
    architecture: Literal["bow", "ensemble"] = "bow"
    ngram_size: int = Field(2, ge=1, le=4)
    epochs: int = Field(10, ge=1)
    batch_size: int = Field(32, ge=1)
    dropout: float = Field(0.2, ge=0, lt=1)
    #: an installed trained spaCy pipeline to add the classifier to (default: a blank one)
    base: str | None = None
    #: multi-label only: each label's threshold tuned on a 20 % hold-out of the training data
    tune_thresholds: bool = True


class GbdtParams(_Strict):
    """Gradient boosting (scikit-learn's HistGradientBoostingClassifier) on engineered dense
    features: a truncated SVD of the text's TF-IDF, length features, and for ``gbdt_pair`` the
    same for the target plus target/text similarity and overlap (whole text and lead)."""

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


PARAMS = {
    "tfidf_lr": TfidfLinearParams,
    "tfidf_pair_lr": TfidfLinearParams,
    "gbdt": GbdtParams,
    "gbdt_pair": GbdtParams,
    "spacy_textcat": SpacyTextcatParams,
}


class ModelConfig(_Strict):
    #: tfidf_lr reads the text; tfidf_pair_lr reads the target (or headline) and the text
    #: (the names say lr; ``params.classifier`` picks the linear model); spacy_textcat reads the text.
    #: gbdt / gbdt_pair: gradient boosting on engineered features of the text (and target).
    type: Literal["tfidf_lr", "tfidf_pair_lr", "gbdt", "gbdt_pair", "spacy_textcat"]
    params: TfidfLinearParams | GbdtParams | SpacyTextcatParams = TfidfLinearParams()

    @field_validator("params", mode="before")
    @classmethod
    def _params_of_the_type(cls, value, info):  # type: ignore[no-untyped-def]
        kind = info.data.get("type")
        if kind in PARAMS and not isinstance(value, BaseModel):
            return PARAMS[kind].model_validate(value or {})
        return value

    @model_validator(mode="after")
    def _matching(self) -> ModelConfig:
        if not isinstance(self.params, PARAMS[self.type]):  # only the default can mismatch
            object.__setattr__(self, "params", PARAMS[self.type]())
        return self


class SearchRange(_Strict):
    """One hyperparameter's search space: a numeric range, or a list of choices."""

    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    choices: list[str | int | float | bool | None] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SearchRange:
        if (self.choices is None) == (self.low is None or self.high is None):
            raise ValueError("give either low and high, or choices")
        return self


class SweepConfig(_Strict):
    """An Optuna search over ``model.params``, scored by cross-validation on the training split."""

    trials: int = Field(20, ge=1)
    #: the metric to maximise, as the eval stage names it (macro_f1, f_avg, fnc_score, ...)
    metric: str = "macro_f1"
    folds: int = Field(3, ge=2)
    #: Optuna storage URL shared by several machines (sqlite:///..., postgresql://...);
    #: NEWSLAB_OPTUNA_STORAGE overrides it; default: data/optuna.db
    storage: str | None = None
    space: dict[str, SearchRange]


class ExperimentConfig(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    task: str
    dataset: str
    description: str = ""
    model: ModelConfig
    seed: int = 0
    sweep: SweepConfig | None = None

    @model_validator(mode="after")
    def _space_names_params(self) -> ExperimentConfig:
        if self.sweep:
            known = set(type(self.model.params).model_fields)
            unknown = sorted(set(self.sweep.space) - known)
            if unknown:
                raise ValueError(
                    f"sweep.space: {unknown[0]!r} is not a model parameter ({', '.join(sorted(known))})"
                )
        return self

    def with_params(self, params: dict) -> ExperimentConfig:
        """A copy with some model parameters replaced (validated)."""
        data = self.model_dump()
        data["model"]["params"].update(params)
        return ExperimentConfig.model_validate(data)


def experiment_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"}:
        return path
    return get_settings().configs_dir / "experiments" / f"{name_or_path}.yaml"


def load_experiment(name_or_path: str | Path) -> tuple[ExperimentConfig, dict]:
    """The validated config and the raw mapping (logged to MLflow as an artifact)."""
    path = experiment_path(name_or_path)
    if not path.exists():
        known = sorted(p.stem for p in (get_settings().configs_dir / "experiments").glob("*.yaml"))
        raise NewslabError(f"{path}: no such experiment config.", f"Known: {', '.join(known)}.")
    raw = read_yaml(path)
    return load_model(path, ExperimentConfig, raw), raw
