"""Gold labels from several annotations: majority vote, Dawid-Skene, CROWDLAB, or an adjudicator's decision.

The method is chosen in the dataset config (``gold:``). ``ground_truth`` takes
an adjudicator's labels where there are any (an annotation marked as ground
truth in Label Studio, or one made in the review project) and falls back to
``fallback`` elsewhere. Multi-label tasks aggregate every label as its own
yes/no question (binary relevance). Every item keeps its number of annotators
and its agreement: the mean MASI similarity of the annotations to the gold
label set (for a single-label task, the share of annotators who chose the gold
label). Items under ``review_below`` can be sent back to Label Studio.

``crowdlab`` (``annotation.crowdlab``) weighs each annotator against the others and against a
cheap text model fitted here on the articles' texts (so ``gold_labels`` needs ``texts``); it also
scores every annotator (``GoldResult.annotators``).

Annotations that accepted a model's pre-annotation unchanged (``origin: accepted``) count
like any other unless ``accepted_predictions`` says otherwise: they may echo the model rather
than the annotator's own reading, and a model's systematic error would become gold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from annotation.agreement import AcceptedPredictions, accepted, masi_distance, submitted, unit_key
from annotation.projects import REVIEW
from core.errors import NewslabError
from core.schema import Schema, Task


class GoldConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["majority", "dawid_skene", "crowdlab", "ground_truth"] = "ground_truth"
    #: for ``ground_truth``: how items without an adjudication get their labels
    fallback: Literal["majority", "dawid_skene", "crowdlab"] = "majority"
    #: items with fewer annotators are left out of the dataset
    min_annotators: int = Field(1, ge=1)
    #: items whose agreement is below this go to the review queue
    review_below: float = Field(0.67, ge=0, le=1)
    dawid_skene_iterations: int = Field(100, ge=1)
    #: an annotator whose labels are gold wherever they gave some (a single-pass corpus whose second
    #: pass only measures agreement); an adjudication still wins
    primary: str = ""
    #: annotations that accepted a model's prediction unchanged (``origin: accepted``): ``keep``
    #: counts them like any other; ``exclude`` leaves them out of gold labels and agreement (an
    #: item left with none is dropped); ``weight`` counts their majority votes (and their share of
    #: an item's agreement) at ``accepted_weight`` and leaves them out of agreement. An
    #: adjudicator's labels count whatever their origin.
    accepted_predictions: AcceptedPredictions = "keep"
    accepted_weight: float = Field(0.5, gt=0, le=1)

    @model_validator(mode="after")
    def _weights_need_majority(self) -> GoldConfig:
        method = self.aggregation
        if self.accepted_predictions == "weight" and method != "majority":
            name = {"dawid_skene": "Dawid-Skene", "crowdlab": "CROWDLAB"}[method]
            raise ValueError(
                "accepted_predictions: weight needs majority vote (method or fallback majority); "
                f"{name} takes no per-annotation weights: use exclude or keep"
            )
        return self

    @property
    def aggregation(self) -> str:
        """How items without an adjudication (or a primary annotator's labels) get theirs."""
        return self.fallback if self.method == "ground_truth" else self.method

    @property
    def needs_texts(self) -> bool:
        """CROWDLAB fits a text model: ``gold_labels`` needs the articles' texts."""
        return self.aggregation == "crowdlab"


@dataclass(frozen=True)
class GoldItem:
    unit: str
    article_id: str
    target: str
    labels: tuple[str, ...]
    n_annotators: int
    agreement: float  #: 1.0 when all annotators gave the gold labels
    method: str  #: majority, dawid_skene, crowdlab, primary or adjudicated
    votes: tuple[tuple[str, tuple[str, ...]], ...]  #: (annotator, labels) of every annotation


@dataclass(frozen=True)
class GoldResult:
    items: list[GoldItem]
    dropped: list[str]  #: units with fewer than min_annotators annotators
    review: list[GoldItem]  #: items under the review threshold (not adjudicated)
    #: with CROWDLAB: per annotator (index) quality, agreement_with_consensus, worst_class, items
    annotators: pd.DataFrame | None = None


def adjudications(frame: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """The adjudicator's latest labels per unit: ground-truth annotations and the review project's."""
    keep = (frame["kind"] == "annotation") & ~frame["cancelled"].astype(bool)
    is_review = frame["project"].astype(str).str.endswith("/" + REVIEW) if "project" in frame else False
    rows = frame[keep & (frame["ground_truth"].astype(bool) | is_review)]
    rows = rows.sort_values("updated_at")
    out: dict[str, tuple[str, ...]] = {}
    for article_id, target, labels in zip(rows["article_id"], rows["target"], rows["labels"], strict=True):
        out[unit_key(article_id, target)] = tuple(sorted(labels))
    return out


def _aggregate(
    rows: pd.DataFrame, method: str, multi_label: bool, iterations: int, weights: list[float] | None
) -> dict[str, tuple]:
    from crowdkit.aggregation import BinaryRelevance, DawidSkene, MajorityVote

    if not multi_label:
        bad = [u for u, labels in zip(rows["unit"], rows["labels"], strict=True) if len(labels) != 1]
        if bad:
            raise NewslabError(
                f"single-label task: unit {bad[0]!r} has an annotation without exactly one label."
            )
    if weights is not None:
        return _weighted_majority(rows, weights, multi_label)
    data = pd.DataFrame({"task": rows["unit"], "worker": rows["annotator"]})
    if multi_label:
        data["label"] = [list(labels) for labels in rows["labels"]]
        base = MajorityVote() if method == "majority" else DawidSkene(n_iter=iterations)
        result = BinaryRelevance(base).fit_predict(data) if data["label"].map(len).any() else pd.Series()
        return {unit: tuple(sorted(labels)) for unit, labels in result.items()}
    data["label"] = [labels[0] for labels in rows["labels"]]
    model = MajorityVote() if method == "majority" else DawidSkene(n_iter=iterations)
    return {unit: (label,) for unit, label in model.fit_predict(data).items()}


def _crowdlab(
    rows: pd.DataFrame, task: Task, task_name: str, texts: Mapping[str, str] | None
) -> tuple[dict[str, tuple], pd.DataFrame]:
    """CROWDLAB's consensus per unit and its per-annotator quality table."""
    from annotation.crowdlab import from_annotations

    if not task.multi_label:
        _aggregate(rows, "majority", False, 1, None)  # an annotation without exactly one label is an error
    result = from_annotations(
        rows, task.codes, task.multi_label, texts, f"{task_name} (gold.method crowdlab)"
    )
    consensus = result.items["consensus_label"]
    out = {u: tuple(sorted(c)) if task.multi_label else (c,) for u, c in consensus.items()}
    return out, result.annotators


def _weighted_majority(rows: pd.DataFrame, weights: list[float], multi_label: bool) -> dict[str, tuple]:
    """Majority vote in which each annotation counts its weight, deciding as crowd-kit does: a single
    label by the most weight (a tie: the alphabetically first, as crowd-kit breaks a weighted one),
    each label of a multi-label task by more than half of the unit's weight."""
    total: dict[str, float] = {}
    score: dict[str, dict[str, float]] = {}
    for unit, labels, weight in zip(rows["unit"], rows["labels"], weights, strict=True):
        total[unit] = total.get(unit, 0.0) + weight
        votes = score.setdefault(unit, {})
        for label in labels:
            votes[label] = votes.get(label, 0.0) + weight
    if multi_label:
        return {
            unit: tuple(sorted(x for x, w in votes.items() if round(w - total[unit] / 2, 9) > 0))
            for unit, votes in score.items()
        }
    return {unit: (min(votes, key=lambda x, v=votes: (-round(v[x], 9), x)),) for unit, votes in score.items()}


def _votes(rows: pd.DataFrame, weights: list[float]) -> dict[str, list[tuple[str, tuple[str, ...], float]]]:
    """unit -> (annotator, labels, weight) of each of its annotations, sorted."""
    out: dict[str, list[tuple[str, tuple[str, ...], float]]] = {}
    for unit, who, labels, weight in zip(
        rows["unit"], rows["annotator"], rows["labels"], weights, strict=True
    ):
        out.setdefault(unit, []).append((str(who), tuple(sorted(labels)), weight))
    return {unit: sorted(votes) for unit, votes in out.items()}


def _counted(
    frame: pd.DataFrame, config: GoldConfig
) -> tuple[pd.DataFrame, pd.DataFrame, list[float] | None]:
    """Every submitted annotation, those that vote, and their weights (None: all equal)."""
    rows = submitted(frame)
    is_accepted = accepted(rows)
    if config.accepted_predictions == "exclude":
        return rows, rows[~is_accepted], None
    if config.accepted_predictions == "weight" and is_accepted.any():
        return rows, rows, [config.accepted_weight if a else 1.0 for a in is_accepted]
    return rows, rows, None


def gold_labels(
    frame: pd.DataFrame,
    schema: Schema,
    task_name: str,
    config: GoldConfig,
    texts: Mapping[str, str] | None = None,
) -> GoldResult:
    """One gold item per annotated unit, with its number of annotators and its agreement.

    ``texts`` (unit or article id -> the article's text) is what CROWDLAB's model reads; only
    ``crowdlab`` needs it."""
    task = schema.task(task_name)
    every, rows, weights = _counted(frame, config)
    adjudicated = adjudications(frame) if config.method == "ground_truth" else {}
    method = config.aggregation
    if len(rows) == 0 and not adjudicated:
        but = " but ones that accepted a prediction unchanged (gold.accepted_predictions: exclude)"
        raise NewslabError(
            f"{task_name}: no submitted annotations{but if len(every) else ''} to take gold labels from."
        )
    annotators = None
    if method == "crowdlab" and len(rows):
        aggregated, annotators = _crowdlab(rows, task, task_name, texts)
    elif len(rows):
        aggregated = _aggregate(rows, method, task.multi_label, config.dawid_skene_iterations, weights)
    else:
        aggregated = {}
    codes = set(task.codes)
    items: list[GoldItem] = []
    dropped: list[str] = []
    votes_of = _votes(rows, weights or [1.0] * len(rows))
    where = {
        unit: (str(article_id), str(target))
        for unit, article_id, target in zip(every["unit"], every["article_id"], every["target"], strict=True)
    }
    for unit in sorted(set(where) | set(adjudicated)):
        weighted = votes_of.get(unit, [])
        votes = tuple((who, labels) for who, labels, _ in weighted)
        given = [(frozenset(labels), weight) for _, labels, weight in weighted]
        primary = (
            next((labels for who, labels in votes if who == config.primary), None) if config.primary else None
        )
        if unit in adjudicated:
            labels, how = adjudicated[unit], "adjudicated"
        elif primary is not None:
            labels, how = primary, "primary"
        else:
            if len(given) < config.min_annotators:
                dropped.append(unit)
                continue
            labels, how = aggregated.get(unit, ()), method
        unknown = sorted(set(labels) - codes)
        if unknown:
            raise NewslabError(f"{task_name}, unit {unit!r}: label {unknown[0]!r} is not in the schema.")
        if not task.multi_label and len(labels) != 1:
            raise NewslabError(
                f"{task_name}, unit {unit!r}: the adjudication has {len(labels)} labels, not 1."
            )
        gold = frozenset(labels)
        weight = sum(w for _, w in given)
        agreement = (
            sum(w * (1 - masi_distance(g, gold)) for g, w in given) / weight if given else float("nan")
        )
        article_id, target = (
            where[unit] if unit in where else (unit.partition("|")[0], unit.partition("|")[2])
        )
        items.append(
            GoldItem(
                unit=unit,
                article_id=article_id,
                target=target,
                labels=tuple(sorted(labels)),
                n_annotators=len(given),
                agreement=round(agreement, 6),
                method=how,
                votes=votes,
            )
        )
    review = [
        item
        for item in items
        if item.method != "adjudicated" and item.n_annotators >= 2 and item.agreement < config.review_below
    ]
    return GoldResult(items, dropped, review, annotators)
