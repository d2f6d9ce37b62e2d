"""The label-noise audit: which gold labels a model trained without them disagrees with, and, where
items have several annotators, the consensus label and how good each annotator is.

Out-of-fold probabilities come from the runner (each item predicted by a model fitted on the
other folds of ``training/folds.py``: grouped by near-duplicate cluster, else article, so a copy
of an item never vouches for it). cleanlab ranks the label issues from them
(``cleanlab.filter.find_label_issues``, its multi-label variant for event types): confident
learning flags items whose given label the out-of-fold model finds less likely than the class
thresholds it learnt allow. CROWDLAB (``cleanlab.multiannotator``) weighs each annotator's
labels against the others' and the model's for items with several annotators
(``annotation.crowdlab``, re-exported here).

Plain functions over arrays and tables: Label Studio (pulling the votes, pushing the flagged
items to the review project) is the caller's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from annotation.crowdlab import Crowdlab as Crowdlab  # re-exported: the audit reports it
from annotation.crowdlab import crowdlab as crowdlab
from core.errors import NewslabError
from core.progress import step
from training import folds
from training.models import build_model
from training.runner import Part, Prepared, fit_model

#: how cleanlab orders the issues it flags (the gold label's own probability, lowest first)
RANKED_BY = "self_confidence"


def aligned_proba(model: object, x: pd.DataFrame, codes: Sequence[str], multi_label: bool) -> np.ndarray:
    """A fitted model's probabilities with one column per schema label, in the schema's order (0
    for a class its training rows lacked)."""
    proba = np.asarray(model.predict_proba(x))  # type: ignore[attr-defined]
    if multi_label:
        return proba
    full = np.zeros((len(x), len(codes)))
    for i, label in enumerate(model.classes_):  # type: ignore[attr-defined]
        full[:, list(codes).index(str(label))] = proba[:, i]
    return full


def out_of_fold_proba(
    data: Prepared, part: Part | None = None, k: int = 5, seed: int = 0, fold_seed: int = 0
) -> np.ndarray:
    """Every item of ``part`` (the training split by default) scored by a model of ``data.model``
    fitted on the other ``k`` folds: items x schema labels."""
    part = part if part is not None else data.train
    task = data.task
    assignment = folds.assign(part.gold, part.groups, task.codes, task.multi_label, k, fold_seed)
    out = np.zeros((len(part.gold), len(task.codes)))
    fold_splits = list(folds.splits(assignment))
    with step(f"out-of-fold probabilities, {len(fold_splits)} folds", total=len(fold_splits)) as advance:
        for fit_rows, held_rows in fold_splits:
            held = part.x.iloc[held_rows]
            fit = part.subset(fit_rows)
            model = fit_model(
                build_model(data.model, task, seed, lang=data.lang), fit.x, fit.gold, task, fit.groups
            )
            out[held_rows] = aligned_proba(model, held, task.codes, task.multi_label)
            advance(1)
    return out


@dataclass(frozen=True)
class LabelIssues:
    """cleanlab's verdict on every item's gold label."""

    #: rows cleanlab flags as label issues, most suspicious first
    flagged: np.ndarray
    #: every row, the flagged first (in their order), then the rest by quality, lowest first
    ranking: np.ndarray
    #: each row's label quality score (0..1, low: the model doubts the gold label)
    quality: np.ndarray
    #: each row's most likely label(s) under the out-of-fold model
    suggested: list

    def top(self, k: int) -> np.ndarray:
        return self.ranking[:k]


def _encoded(gold: Sequence, codes: Sequence[str], multi_label: bool) -> tuple[list, list[int]]:
    """Gold labels as positions among the labels present in ``gold`` (cleanlab wants every class it
    is shown to occur), and those labels' positions in ``codes``."""
    present = sorted({codes.index(c) for g in gold for c in (g if multi_label else [g])})
    position = {j: i for i, j in enumerate(present)}
    if multi_label:
        return [[position[codes.index(c)] for c in g] for g in gold], present
    return [position[codes.index(g)] for g in gold], present


def label_issues(gold: Sequence, proba: np.ndarray, codes: Sequence[str], multi_label: bool) -> LabelIssues:
    """cleanlab's label issues of ``gold`` (codes; lists of codes for multi-label) given out-of-fold
    ``proba`` (items x ``codes``)."""
    import cleanlab.filter
    import cleanlab.multilabel_classification
    import cleanlab.rank

    codes = list(codes)
    proba = np.asarray(proba, dtype=float)
    if len(gold) != len(proba) or proba.shape[1:] != (len(codes),):
        raise NewslabError(
            f"audit: {len(gold)} gold labels, probabilities {proba.shape}, {len(codes)} labels."
        )
    labels, present = _encoded(gold, codes, multi_label)
    if len(present) < 2:
        raise NewslabError(
            f"audit: the gold labels use {len(present)} label(s): nothing to tell a wrong label from.",
        )
    sub = proba[:, present]
    if multi_label:
        sub = np.clip(sub, 1e-6, 1 - 1e-6)
        flagged = cleanlab.filter.find_label_issues(
            labels, sub, multi_label=True, return_indices_ranked_by=RANKED_BY
        )
        quality = cleanlab.multilabel_classification.get_label_quality_scores(labels, sub)
        suggested = [[codes[j] for j in np.flatnonzero(row >= 0.5)] for row in proba]
    else:
        sub = sub / np.clip(sub.sum(axis=1, keepdims=True), 1e-12, None)
        labels = np.asarray(labels)
        flagged = cleanlab.filter.find_label_issues(labels, sub, return_indices_ranked_by=RANKED_BY)
        quality = cleanlab.rank.get_label_quality_scores(labels, sub, method=RANKED_BY)
        suggested = [codes[j] for j in proba.argmax(axis=1)]
    flagged = np.asarray(flagged, dtype=int)
    rest = np.setdiff1d(np.arange(len(gold)), flagged)
    ranking = np.concatenate([flagged, rest[np.argsort(quality[rest], kind="stable")]])
    return LabelIssues(flagged, ranking, np.asarray(quality, dtype=float), suggested)


@dataclass(frozen=True)
class Audit:
    """The audit of one split's gold labels: out-of-fold probabilities and cleanlab's verdict."""

    ids: list[str]
    gold: list
    codes: list[str]
    proba: np.ndarray
    issues: LabelIssues

    def table(self) -> pd.DataFrame:
        """One row per item, most suspicious first: id, gold, suggested, quality, flagged, and the
        out-of-fold ``proba_<code>`` columns (the model's side of the review)."""
        rows = self.issues.ranking
        flagged = set(self.issues.flagged.tolist())
        frame = pd.DataFrame(
            {
                "id": [self.ids[i] for i in rows],
                "gold": [self.gold[i] for i in rows],
                "suggested": [self.issues.suggested[i] for i in rows],
                "quality": self.issues.quality[rows],
                "flagged": [int(i) in flagged for i in rows],
            }
        )
        for j, code in enumerate(self.codes):
            frame[f"proba_{code}"] = self.proba[rows, j]
        return frame


def audit(data: Prepared, split: str = "train", k: int = 5, seed: int = 0, fold_seed: int = 0) -> Audit:
    """Audit the gold labels of one split of ``data`` with out-of-fold probabilities of its model."""
    part = data.parts.get(split)
    if part is None:
        raise NewslabError(f"audit: the dataset has no {split!r} split (has {', '.join(data.parts)}).")
    proba = out_of_fold_proba(data, part, k=k, seed=seed, fold_seed=fold_seed)
    issues = label_issues(part.gold, proba, data.task.codes, data.task.multi_label)
    return Audit(list(data.ds[split]["id"]), list(part.gold), list(data.task.codes), proba, issues)


def precision_recall_at(ranking: np.ndarray, truth: Sequence[int], k: int) -> tuple[float, float]:
    """Precision and recall of the first ``k`` of ``ranking`` at finding the rows ``truth``."""
    found = len(set(ranking[:k].tolist()) & set(truth))
    return found / max(min(k, len(ranking)), 1), found / max(len(truth), 1)
