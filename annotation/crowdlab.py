"""CROWDLAB: the consensus of several annotators and a model, and how good each annotator is.

CROWDLAB (cleanlab's ``get_label_quality_multiannotator``) weighs each annotator's labels
against the others' and against a model's out-of-fold probabilities: an annotator who often
disagrees with both counts less, and an item labelled once is trusted as far as the model
backs it. This is the project's one implementation; ``annotation.gold`` (``gold: {method:
crowdlab}``), the per-annotator agreement rows and ``eval.audit`` use it.

The model has to be a cheap one fitted here (``model_proba``): gold labels are made below the
training layer, before any newslab model exists, and a model trained on these gold labels would
vouch for itself. Multi-label tasks run CROWDLAB once per label on "has this label" (binary
relevance), as Dawid-Skene does in ``annotation.gold``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import NewslabError

#: probabilities are kept off 0 and 1: CROWDLAB takes logs, and a fold's model is never that sure
EPSILON = 1e-6


@dataclass(frozen=True)
class Crowdlab:
    """CROWDLAB's consensus of several annotators and the model."""

    #: per item (index: item id): consensus_label (code; a tuple of codes for a multi-label task),
    #: consensus_quality, annotator_agreement, num_annotations; lowest consensus quality first
    items: pd.DataFrame
    #: per annotator (index): quality, agreement_with_consensus, worst_class (code), items; best first
    annotators: pd.DataFrame


# -- the model's view ---------------------------------------------------------------------------


def _fold_proba(x_train, x_test, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """A logistic regression fitted on ``x_train``: its classes and their probabilities on ``x_test``."""
    from sklearn.linear_model import LogisticRegression

    classes = np.unique(y)
    if len(classes) == 1:  # nothing to learn: the one class seen is certain
        return classes, np.ones((x_test.shape[0], 1))
    solver = "liblinear" if len(classes) == 2 else "lbfgs"  # liblinear: fast on the yes/no fits
    model = LogisticRegression(class_weight="balanced", solver=solver, max_iter=1000, random_state=seed)
    model.fit(x_train, y)
    return model.classes_, model.predict_proba(x_test)


def model_proba(
    texts: list[str],
    labels: list,
    codes: Sequence[str],
    multi_label: bool,
    groups: list[str],
    seed: int = 0,
) -> np.ndarray:
    """Out-of-fold probabilities (items x ``codes``) of a TF-IDF (word 1-2-grams, sublinear, seen
    in two texts or more) +
    logistic regression (balanced classes) fitted on the provisional ``labels`` (a code per item;
    a collection of codes for a multi-label task, one yes/no classifier per code).

    CROWDLAB needs a model's view of every item, and the dataset layer cannot use newslab's
    trained models (they are trained on these gold labels). Folds are grouped by ``groups``
    (article ids) so an article never vouches for itself. A class absent from a fold's training
    part gets probability 0 there; with a single group no fold exists and every row is uniform
    (the annotators alone decide)."""
    from sklearn.model_selection import GroupKFold

    codes = list(codes)
    n = len(texts)
    if not len(labels) == len(groups) == n:
        raise NewslabError(f"model_proba: {n} texts, {len(labels)} labels and {len(groups)} groups differ.")
    out = np.zeros((n, len(codes)))
    n_groups = len(set(groups))
    if n_groups < 2:
        return np.full(out.shape, 0.5 if multi_label else 1 / max(len(codes), 1))
    if multi_label:
        targets = [np.array([int(c in set(given)) for given in labels]) for c in codes]
    else:
        targets = [np.array([codes.index(label) for label in labels])]
    # the vocabulary is fitted once on every text (unsupervised: no label crosses a fold), the
    # classifiers per fold; word 1-2-grams seen twice keep it small and the fits fast
    from sklearn.feature_extraction.text import TfidfVectorizer

    x = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=50_000).fit_transform(
        texts
    )
    for train, test in GroupKFold(n_splits=min(5, n_groups)).split(texts, groups=groups):
        x_train, x_test = x[train], x[test]
        for j, y in enumerate(targets):
            classes, proba = _fold_proba(x_train, x_test, y[train], seed)
            if multi_label:
                out[test, j] = proba[:, list(classes).index(1)] if 1 in classes else 0.0
            else:
                out[np.ix_(test, classes)] = proba
    if multi_label:
        return np.clip(out, EPSILON, 1 - EPSILON)
    out = np.clip(out, EPSILON, None)
    return out / out.sum(axis=1, keepdims=True)


# -- CROWDLAB -------------------------------------------------------------------------------------


def _checked(votes: pd.DataFrame, items: Sequence[str]) -> tuple[pd.DataFrame, dict[str, int], list[str]]:
    """The votes on ``items``, item -> row of the probabilities, and the items voted on (in vote
    order); bad votes are errors."""
    missing = {"item", "annotator", "label"} - set(votes.columns)
    if missing:
        raise NewslabError(f"crowdlab: the votes lack column(s) {', '.join(sorted(missing))}.")
    position = {item: i for i, item in enumerate(items)}
    voted = [i for i in dict.fromkeys(votes["item"]) if i in position]
    if not voted:
        raise NewslabError("crowdlab: no vote is on an item the probabilities are given for.")
    if votes.duplicated(["item", "annotator"]).any():
        raise NewslabError("crowdlab: an annotator has two labels for one item; keep their latest.")
    votes = votes[votes["item"].isin(position)]
    if votes["annotator"].nunique() < 2:
        raise NewslabError("crowdlab: the votes come from one annotator; CROWDLAB weighs several.")
    return votes, position, voted


def _run(table: pd.DataFrame, pred: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """cleanlab's CROWDLAB on an items x annotators table of class indices (NaN: not labelled)."""
    from cleanlab.multiannotator import get_label_quality_multiannotator

    pred = np.clip(np.asarray(pred, dtype=float), EPSILON, None)
    pred = pred / pred.sum(axis=1, keepdims=True)
    state = np.random.get_state()  # cleanlab breaks its last majority-vote ties with np.random
    np.random.seed(0)  # a build must give the same gold labels every time
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="breaking ties of examples")
            result = get_label_quality_multiannotator(table, pred, verbose=False)
    finally:
        np.random.set_state(state)
    quality = result["label_quality"].set_index(table.index)
    quality = quality.rename(columns={"consensus_quality_score": "consensus_quality"})
    annotators = result["annotator_stats"].rename(
        columns={"annotator_quality": "quality", "num_examples_labeled": "items"}
    )
    return quality, annotators


def _sorted(items: pd.DataFrame, annotators: pd.DataFrame) -> Crowdlab:
    return Crowdlab(
        items.sort_values("consensus_quality", kind="stable"),
        annotators.sort_values("quality", ascending=False, kind="stable"),
    )


def crowdlab(votes: pd.DataFrame, items: Sequence[str], proba: np.ndarray, codes: Sequence[str]) -> Crowdlab:
    """CROWDLAB on ``votes`` (one row per annotation: ``item``, ``annotator``, ``label`` code) of a
    single-label task, with the model's (out-of-fold) ``proba`` for ``items`` (rows x ``codes``).

    Items without a vote are left out; an item with one vote still gets a consensus (the model's
    weight decides how far it is trusted), annotators are scored on the items others labelled too.
    """
    codes = list(codes)
    missing = {"item", "annotator", "label"} - set(votes.columns)
    unknown = sorted(set(votes["label"]) - set(codes)) if not missing else []
    if unknown:
        raise NewslabError(
            f"crowdlab: unknown label(s) {', '.join(map(str, unknown))}; known: {', '.join(codes)}."
        )
    votes, position, voted = _checked(votes, items)
    table = (
        votes.assign(code=votes["label"].map(codes.index).astype(float))
        .pivot(index="item", columns="annotator", values="code")
        .reindex(voted)
    )
    quality, annotators = _run(table, np.asarray(proba, dtype=float)[[position[i] for i in voted]])
    quality["consensus_label"] = [codes[int(c)] for c in quality["consensus_label"]]
    annotators["worst_class"] = [codes[int(c)] for c in annotators["worst_class"]]
    return _sorted(quality, annotators)


def crowdlab_multilabel(
    votes: pd.DataFrame, items: Sequence[str], proba: np.ndarray, codes: Sequence[str]
) -> Crowdlab:
    """CROWDLAB for a multi-label task (``label``: a collection of codes per annotation; ``proba``:
    items x ``codes``, each column the probability of that label), one code at a time on "has this
    label" with probabilities [1 - p, p].

    A code that every vote or no vote uses has nothing to weigh: its consensus is that unanimous
    vote and it scores nobody. The consensus set holds the codes whose consensus is yes; an item's
    consensus quality is the minimum over the weighed codes (a set is only as sure as its least
    sure label; a mean would drown one doubtful label among the many unanimous noes), 1 when none
    was weighed; an annotator's quality is the mean over weighed codes, worst_class the lowest.
    """
    codes = list(codes)
    missing = {"item", "annotator", "label"} - set(votes.columns)
    sets = [] if missing else [frozenset(x) for x in votes["label"]]
    unknown = sorted(set().union(*sets) - set(codes)) if sets else []
    if unknown:
        raise NewslabError(
            f"crowdlab: unknown label(s) {', '.join(map(str, unknown))}; known: {', '.join(codes)}."
        )
    votes, position, voted = _checked(votes, items)
    sets = [frozenset(x) for x in votes["label"]]
    rows = np.asarray(proba, dtype=float)[[position[i] for i in voted]]
    counts = votes["item"].value_counts().reindex(voted)
    chosen = pd.DataFrame(False, index=voted, columns=codes)
    sureness = pd.DataFrame(np.nan, index=voted, columns=codes)
    agreeing = pd.DataFrame(1.0, index=voted, columns=codes)
    per_code: dict[str, pd.DataFrame] = {}
    for j, code in enumerate(codes):
        has = votes.assign(code=[float(code in s) for s in sets])
        if has["code"].nunique() == 1:  # unanimous: majority decides, nothing to weigh
            chosen[code] = bool(has["code"].iloc[0])
            continue
        table = has.pivot(index="item", columns="annotator", values="code").reindex(voted)
        quality, annotators = _run(table, np.column_stack([1 - rows[:, j], rows[:, j]]))
        chosen[code] = quality["consensus_label"].astype(int).eq(1)
        sureness[code] = quality["consensus_quality"]
        agreeing[code] = quality["annotator_agreement"]
        per_code[code] = annotators
    result = pd.DataFrame(
        {
            "consensus_label": [tuple(c for c in codes if chosen.at[i, c]) for i in voted],
            "consensus_quality": sureness.min(axis=1, skipna=True).fillna(1.0),
            "annotator_agreement": agreeing.mean(axis=1),
            "num_annotations": counts.astype(int),
        },
        index=pd.Index(voted, name="item"),
    )
    return _sorted(result, _annotators(votes, per_code))


def _annotators(votes: pd.DataFrame, per_code: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per annotator: mean quality and agreement over the weighed codes, the worst code, items labelled."""
    names = sorted(votes["annotator"].unique())
    n_items = votes.groupby("annotator")["item"].nunique().reindex(names)
    if not per_code:
        nan = [np.nan] * len(names)
        frame = {"quality": nan, "agreement_with_consensus": nan, "worst_class": [""] * len(names)}
        return pd.DataFrame({**frame, "items": n_items.to_numpy()}, index=pd.Index(names))
    quality = pd.DataFrame({c: a["quality"] for c, a in per_code.items()}).reindex(names)
    agreement = pd.DataFrame({c: a["agreement_with_consensus"] for c, a in per_code.items()}).reindex(names)
    return pd.DataFrame(
        {
            "quality": quality.mean(axis=1),
            "agreement_with_consensus": agreement.mean(axis=1),
            "worst_class": quality.idxmin(axis=1),
            "items": n_items.to_numpy(),
        },
        index=pd.Index(names),
    )


# -- from a table of annotations -------------------------------------------------------------------


def model_text(text: str, target: str) -> str:
    """What the model reads for a unit: the stance target first, so it can tell targets apart."""
    return f"target: {target} {text}" if target else text


def _unit_texts(rows: pd.DataFrame, texts: Mapping[str, str], where: str) -> dict[str, str]:
    """unit -> model input; ``texts`` is keyed by unit or by article id. A unit without text is an error."""
    out: dict[str, str] = {}
    for unit, article_id, target in zip(rows["unit"], rows["article_id"], rows["target"], strict=True):
        if unit in out:
            continue
        text = texts.get(unit, texts.get(str(article_id)))
        if text is None:
            raise NewslabError(
                f"{where}, unit {unit!r}: CROWDLAB needs its article's text; none was given.",
                "Ingest the article into the corpus store (`newslab corpus ingest`).",
            )
        out[unit] = model_text(str(text), str(target or ""))
    return out


def provisional(rows: pd.DataFrame, codes: Sequence[str], multi_label: bool) -> dict[str, object]:
    """The majority vote the model is trained on: per unit the most chosen code (a tie: the first
    in schema order), or for a multi-label task the codes more than half the annotators chose."""
    codes = list(codes)
    out: dict[str, object] = {}
    for unit, group in rows.groupby("unit", sort=True):
        counts = pd.Series([c for labels in group["labels"] for c in labels]).value_counts()
        if multi_label:
            out[unit] = tuple(c for c in codes if counts.get(c, 0) * 2 > len(group))
        else:
            out[unit] = max(codes, key=lambda c, n=counts: (n.get(c, 0), -codes.index(c)))
    return out


def check_applies(rows: pd.DataFrame, where: str, texts: Mapping[str, str] | None = None) -> None:
    """CROWDLAB weighs annotators against each other: one annotator, or no unit labelled by two or
    more, leaves nothing to weigh; without texts its model has nothing to read."""
    advice = "Use gold.method majority (or dawid_skene), or double-annotate some items and pull."
    who = sorted(map(str, rows["annotator"].unique()))
    if len(who) < 2:
        raise NewslabError(
            f"{where}: CROWDLAB weighs several annotators; the annotations come from {len(who)}"
            f"{' (' + ', '.join(who) + ')' if who else ''}.",
            advice,
        )
    if not rows["unit"].duplicated().any():
        raise NewslabError(
            f"{where}: CROWDLAB needs units labelled by two or more annotators; none is.", advice
        )
    if texts is None:
        raise NewslabError(
            f"{where}: CROWDLAB needs the articles' texts (its model reads them); none were given.",
            "Pass texts= (unit or article id -> text); a dataset build fetches them from the corpus store.",
        )


def applies(rows: pd.DataFrame) -> bool:
    """Two or more annotators, and a unit labelled by two or more of them."""
    return rows["annotator"].nunique() >= 2 and bool(rows["unit"].duplicated().any())


def from_annotations(
    rows: pd.DataFrame,
    codes: Sequence[str],
    multi_label: bool,
    texts: Mapping[str, str] | None,
    where: str,
    seed: int = 0,
) -> Crowdlab:
    """CROWDLAB on submitted annotations (one row per unit and annotator: ``unit``, ``article_id``,
    ``target``, ``annotator``, ``labels``), its model fitted on ``texts`` (unit or article id ->
    text) against the majority vote; ``where`` (the task) names the data in errors."""
    check_applies(rows, where, texts)
    assert texts is not None
    by_unit = _unit_texts(rows, texts, where)
    majority = provisional(rows, codes, multi_label)
    units = sorted(majority)
    article = dict(zip(rows["unit"], rows["article_id"].astype(str), strict=True))
    proba = model_proba(
        [by_unit[u] for u in units],
        [majority[u] for u in units],
        codes,
        multi_label,
        [article[u] for u in units],
        seed,
    )
    votes = pd.DataFrame(
        {
            "item": rows["unit"].to_numpy(),
            "annotator": rows["annotator"].astype(str).to_numpy(),
            "label": [tuple(x) if multi_label else x[0] for x in rows["labels"]],
        }
    )
    return (crowdlab_multilabel if multi_label else crowdlab)(votes, units, proba, codes)
