"""Model builders: a config's ``model`` section to an unfitted scikit-learn pipeline.

Every model takes a pandas DataFrame (``text``, and ``target`` for pair models)
and predicts label codes of the schema.
"""

from __future__ import annotations

from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from newslab.errors import NewslabError
from newslab.schema import Task
from training.config import ModelConfig, TfidfLinearParams
from training.features import (
    DedupTfidfVectorizer,
    PairEmbeddingSimilarity,
    PairSimilarity,
    SentenceEmbedder,
    TunedThresholdOneVsRest,
)
from training.spacy_textcat import SpacyTextClassifier


def input_columns(model: ModelConfig) -> list[str]:
    """The dataset columns a model reads."""
    return ["target", "text"] if model.type == "tfidf_pair_lr" else ["text"]


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


def build_model(
    model: ModelConfig, task: Task, seed: int, lang: str = "en"
) -> Pipeline | SpacyTextClassifier:
    if model.type == "spacy_textcat":
        # the config's params are the estimator's own arguments
        params = model.params.model_dump()
        return SpacyTextClassifier(task.codes, task.multi_label, lang, seed=seed, **params)
    p = model.params
    columns = [("text", _text_features(p), "text")]
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
                Pipeline([("pair", PairSimilarity()), ("scale", StandardScaler())]),
                ["target", "text"],
            ),
        ]
    if p.classifier == "cnb" and model.type == "tfidf_pair_lr":
        raise NewslabError("model: complement naive Bayes needs non-negative features; use it with tfidf_lr.")
    classifier = _classifier(p, seed, calibrate=not task.multi_label)
    if task.multi_label:  # rare labels are common here: calibration folds would lack positives
        classifier = TunedThresholdOneVsRest(classifier, cv=3 if p.tune_thresholds else 0, random_state=seed)
    return Pipeline([("features", ColumnTransformer(columns)), ("classifier", classifier)])
