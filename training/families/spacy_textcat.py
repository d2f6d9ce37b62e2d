"""``spacy_textcat``: spaCy's ``textcat`` / ``textcat_multilabel`` trained from scratch on the text
(the estimator is ``newslab_model/spacy_textcat.py``; spaCy is imported only when one is built)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.schema import Task
from training import flavours
from training.registry import Family, register

if TYPE_CHECKING:
    from newslab_model.spacy_textcat import SpacyTextClassifier
    from training.config import ModelConfig


class SpacyTextcatParams(BaseModel):
    """spaCy textcat / textcat_multilabel trained from scratch (see newslab_model/spacy_textcat.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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


def build(model: ModelConfig, task: Task, seed: int, lang: str) -> SpacyTextClassifier:
    from newslab_model.spacy_textcat import SpacyTextClassifier

    # the config's params are the estimator's own arguments
    return SpacyTextClassifier(task.codes, task.multi_label, lang, seed=seed, **model.params.model_dump())


register(
    Family(
        name="spacy_textcat",
        params=SpacyTextcatParams,
        build=build,
        columns=lambda p: ["text"],
        flavour=flavours.SPACY,
        requirements=lambda p: ["spacy"],
    )
)
