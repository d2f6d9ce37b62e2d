"""Inter-annotator agreement, with bootstrap confidence intervals.

Input: the pulled annotations table (``data/annotations/<task>.parquet``). A
*unit* is what one annotation labels: an article (event types) or an
article-target pair (stance). Only submitted, not skipped annotations count; an
annotator's latest annotation of a unit wins; the adjudications of a review
project are not an annotator's and are left out. With ``accepted_predictions``
other than ``keep``, so are the annotations that accepted a model's prediction
unchanged (``origin: accepted``): two annotators who both accepted the same
pre-annotation agree with the model, not necessarily with each other.

Figures, each with a percentile bootstrap interval over units:

- Krippendorff's alpha: nominal for single-label tasks; with
  the MASI distance (Passonneau 2006) over label sets for multi-label tasks.
- per label: binary alpha of "has this label" (one label against the rest);
- Cohen's kappa (scikit-learn) for every annotator pair; for a multi-label task
  the pair's yes/no decisions on every (unit, label) are pooled;
- percent agreement: the share of annotator pairs on a unit that chose exactly
  the same labels, averaged over units with two or more annotators;
- per annotator: mean kappa with the others and percent agreement with the others.

``annotator_quality`` adds CROWDLAB's quality of each annotator (``annotation.crowdlab``: their
labels weighed against the others' and a text model's), without an interval: it is not
bootstrapped (each resample would refit the model).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from annotation.projects import REVIEW
from core import stats
from core.errors import NewslabError
from core.schema import Schema, Task

#: what agreement and gold labels do with annotations that accepted a prediction unchanged
AcceptedPredictions = Literal["keep", "exclude", "weight"]


@dataclass(frozen=True)
class Reliability:
    """Who gave which label set to which unit: ``matrix[annotator, unit]`` indexes ``sets`` (-1: none)."""

    units: list[str]
    annotators: list[str]
    sets: list[frozenset[str]]
    matrix: np.ndarray
    labels: list[str]  #: the task's label codes
    multi_label: bool
    cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  #: per-label yes/no arrays


@dataclass(frozen=True)
class AgreementRow:
    scope: str  #: overall, label, pair or annotator
    name: str  #: the label, pair (a | b) or annotator; "all" for overall figures
    metric: str  #: alpha_nominal, alpha_masi, alpha_binary, kappa, percent, crowdlab quality
    value: float
    low: float
    high: float
    n_units: int


@dataclass
class AgreementReport:
    task: str
    n_units: int  #: units with at least two annotators
    n_annotators: int
    rows: list[AgreementRow] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([r.__dict__ for r in self.rows])

    def kappa_matrix(self) -> pd.DataFrame:
        names = sorted({n for r in self.rows if r.metric == "kappa" for n in r.name.split(" | ")})
        out = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
        for row in self.rows:
            if row.scope == "pair" and row.metric == "kappa":
                a, b = row.name.split(" | ")
                out.loc[a, b] = out.loc[b, a] = row.value
        return out


def unit_key(article_id: str, target: str) -> str:
    return f"{article_id}|{target}" if target else article_id


def accepted(frame: pd.DataFrame) -> pd.Series:
    """Rows that accepted a prediction unchanged; none in a table pulled before provenance was kept."""
    if "origin" not in frame.columns:
        return pd.Series(False, index=frame.index)
    return frame["origin"].eq("accepted")


def submitted(frame: pd.DataFrame, exclude_accepted: bool = False) -> pd.DataFrame:
    """Submitted annotations, one per (unit, annotator): the latest; skipped ones and adjudications out
    (and, with ``exclude_accepted``, an annotator whose latest annotation accepted a prediction)."""
    required = {"kind", "article_id", "target", "annotator", "labels", "cancelled", "updated_at"}
    missing = required - set(frame.columns)
    if missing:
        raise NewslabError(f"annotations table: missing column(s) {', '.join(sorted(missing))}.")
    keep = (frame["kind"] == "annotation") & ~frame["cancelled"].astype(bool)
    if "project" in frame.columns:
        keep &= ~frame["project"].astype(str).str.endswith("/" + REVIEW)
    rows = frame[keep].copy()
    rows["unit"] = [unit_key(a, t) for a, t in zip(rows["article_id"], rows["target"], strict=True)]
    rows = rows.sort_values(["unit", "annotator", "updated_at"])
    rows = rows.drop_duplicates(["unit", "annotator"], keep="last")
    return rows[~accepted(rows)] if exclude_accepted else rows


def reliability(frame: pd.DataFrame, task: Task, exclude_accepted: bool = False) -> Reliability:
    rows = submitted(frame, exclude_accepted)
    units = sorted(rows["unit"].unique())
    annotators = sorted(rows["annotator"].unique())
    set_index: dict[frozenset[str], int] = {}
    matrix = np.full((len(annotators), len(units)), -1, dtype=np.int64)
    u_of = {u: i for i, u in enumerate(units)}
    a_of = {a: i for i, a in enumerate(annotators)}
    for unit, annotator, labels in zip(rows["unit"], rows["annotator"], rows["labels"], strict=True):
        key = frozenset(labels)
        matrix[a_of[annotator], u_of[unit]] = set_index.setdefault(key, len(set_index))
    sets = sorted(set_index, key=set_index.get)
    return Reliability(units, annotators, sets, matrix, task.codes, task.multi_label)


# -- the statistics; each takes the indices of the units to use (a bootstrap sample) ---------------


def masi_distance(a: frozenset[str], b: frozenset[str]) -> float:
    """1 - Jaccard x monotonicity (1 equal, 2/3 subset, 1/3 overlap, 0 disjoint); Passonneau 2006."""
    if not a and not b:
        return 0.0
    union = len(a | b)
    inter = len(a & b)
    if a == b:
        m = 1.0
    elif a <= b or b <= a:
        m = 2 / 3
    elif inter:
        m = 1 / 3
    else:
        m = 0.0
    return 1.0 - (inter / union) * m


def _alpha(codes: np.ndarray, distance: np.ndarray) -> float:
    """Krippendorff's alpha of an (annotators, units) array of value indices (-1: no value).

    Built from the coincidence matrix, one annotator pair at a time (Krippendorff 2011,
    "Computing Krippendorff's alpha-reliability"): memory O(values^2). The ``krippendorff``
    package materialises a units x values x values array instead (7 GB for 10,000 units
    and the ~200 label sets of a multi-label task); the tests check both give the same alpha.
    """
    n_values = distance.shape[0]
    present = codes >= 0
    m = present.sum(axis=0)
    weight = np.where(m >= 2, 1.0 / np.maximum(m - 1, 1), 0.0)
    o = np.zeros(n_values * n_values)
    for a, b in itertools.permutations(range(codes.shape[0]), 2):
        both = present[a] & present[b] & (m >= 2)
        index = codes[a, both].astype(np.int64) * n_values + codes[b, both]
        o += np.bincount(index, weights=weight[both], minlength=n_values * n_values)
    o = o.reshape(n_values, n_values)
    n_v = o.sum(axis=0)
    n = n_v.sum()
    if np.count_nonzero(n_v) < 2:
        return math.nan  # fewer than two values were used: alpha is undefined
    e = (np.outer(n_v, n_v) - np.diag(n_v)) / (n - 1)
    return float(1 - (o * distance).sum() / (e * distance).sum())


def _nominal(n_values: int) -> np.ndarray:
    return 1.0 - np.eye(n_values)


def alpha_nominal(rel: Reliability, cols: np.ndarray) -> float:
    return _alpha(rel.matrix[:, cols], _nominal(len(rel.sets)))


def alpha_masi(rel: Reliability, cols: np.ndarray) -> float:
    if "masi" not in rel.cache:
        rel.cache["masi"] = np.array([[masi_distance(a, b) for b in rel.sets] for a in rel.sets])
    return _alpha(rel.matrix[:, cols], rel.cache["masi"])


def _has_label(rel: Reliability, label: str) -> np.ndarray:
    """(annotators, units): 1 if the annotator gave the label, 0 if not, -1 if no annotation."""
    if label not in rel.cache:
        has = np.array([label in s for s in rel.sets] + [False], dtype=np.int8)  # index -1 -> last
        out = has[rel.matrix]
        out[rel.matrix < 0] = -1
        rel.cache[label] = out
    return rel.cache[label]


def alpha_binary(rel: Reliability, label: str, cols: np.ndarray) -> float:
    return _alpha(_has_label(rel, label)[:, cols], _nominal(2))


def _pair_decisions(rel: Reliability, a: int, b: int, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    both = cols[(rel.matrix[a, cols] >= 0) & (rel.matrix[b, cols] >= 0)]
    if not rel.multi_label:
        return rel.matrix[a, both], rel.matrix[b, both]
    ya = np.concatenate([_has_label(rel, label)[a, both] for label in rel.labels])
    yb = np.concatenate([_has_label(rel, label)[b, both] for label in rel.labels])
    return ya, yb


def kappa(rel: Reliability, a: int, b: int, cols: np.ndarray) -> float:
    ya, yb = _pair_decisions(rel, a, b, cols)
    if len(ya) == 0 or (len(set(ya.tolist()) | set(yb.tolist())) < 2):
        return math.nan
    return float(cohen_kappa_score(ya, yb))


def percent_agreement(rel: Reliability, cols: np.ndarray, who: int | None = None) -> float:
    """Share of agreeing annotator pairs per unit (only pairs including ``who`` when given)."""
    codes = rel.matrix[:, cols]
    present = codes >= 0
    pairs = np.zeros(codes.shape[1])
    agreeing = np.zeros(codes.shape[1])
    for a, b in itertools.combinations(range(codes.shape[0]), 2):
        if who is not None and who not in (a, b):
            continue
        both = present[a] & present[b]
        pairs += both
        agreeing += both & (codes[a] == codes[b])
    ok = pairs > 0
    return float(np.mean(agreeing[ok] / pairs[ok])) if ok.any() else math.nan


def bootstrap(
    statistic: Callable[[np.ndarray], float],
    units: np.ndarray,
    n_boot: int,
    seed: int,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """The statistic on ``units`` and its percentile bootstrap interval (units resampled with replacement)."""
    value = statistic(units)
    if n_boot <= 0 or len(units) < 2:
        return value, math.nan, math.nan
    draws = stats.draws(lambda rows: {"value": statistic(units[rows])}, len(units), n_boot, seed)["value"]
    low, high = stats.interval(draws, level)
    return value, low, high


def agreement(
    frame: pd.DataFrame,
    schema: Schema,
    task_name: str,
    n_boot: int = 1000,
    seed: int = 0,
    accepted_predictions: AcceptedPredictions = "keep",
) -> AgreementReport:
    """Every agreement figure of one task's annotations.

    ``accepted_predictions``: ``keep`` counts the annotations that accepted a prediction
    unchanged like any other; ``exclude`` and ``weight`` leave them out (an agreement figure
    cannot count an annotation by half, so ``weight`` applies to gold labels only).
    """
    task = schema.task(task_name)
    excluded = accepted_predictions != "keep"
    rel = reliability(frame, task, exclude_accepted=excluded)
    if len(rel.annotators) < 2:
        left_out = " once annotations that accepted a prediction unchanged are left out" if excluded else ""
        raise NewslabError(
            f"{task_name}: agreement needs two or more annotators; found "
            f"{len(rel.annotators)} ({', '.join(rel.annotators) or 'none'}){left_out}.",
            "Double-annotate some items (`newslab annotate setup --annotator A --annotator B`) and pull.",
        )
    shared = np.nonzero((rel.matrix >= 0).sum(axis=0) >= 2)[0]
    report = AgreementReport(task_name, len(shared), len(rel.annotators))

    def add(scope: str, name: str, metric: str, stat: Callable[[np.ndarray], float], units: np.ndarray):
        value, low, high = bootstrap(stat, units, n_boot, seed)
        report.rows.append(AgreementRow(scope, name, metric, value, low, high, len(units)))

    if task.multi_label:
        add("overall", "all", "alpha_masi", lambda c: alpha_masi(rel, c), shared)
    else:
        add("overall", "all", "alpha_nominal", lambda c: alpha_nominal(rel, c), shared)
    add("overall", "all", "percent", lambda c: percent_agreement(rel, c), shared)
    for label in rel.labels:
        add("label", label, "alpha_binary", lambda c, label=label: alpha_binary(rel, label, c), shared)
    n = len(rel.annotators)
    for a, b in itertools.combinations(range(n), 2):
        both = np.nonzero((rel.matrix[a] >= 0) & (rel.matrix[b] >= 0))[0]
        if len(both):
            name = f"{rel.annotators[a]} | {rel.annotators[b]}"
            add("pair", name, "kappa", lambda c, a=a, b=b: kappa(rel, a, b, c), both)
    for a in range(n):
        mine = np.nonzero((rel.matrix[a] >= 0) & ((rel.matrix >= 0).sum(axis=0) >= 2))[0]
        if not len(mine):
            continue
        others = [b for b in range(n) if b != a]

        def mean_kappa(c: np.ndarray, a: int = a, others: list[int] = others) -> float:
            values = [kappa(rel, a, b, c) for b in others]
            values = [v for v in values if not math.isnan(v)]
            return float(np.mean(values)) if values else math.nan

        add("annotator", rel.annotators[a], "kappa", mean_kappa, mine)
        add("annotator", rel.annotators[a], "percent", lambda c, a=a: percent_agreement(rel, c, a), mine)
    return report


def annotator_quality(
    frame: pd.DataFrame,
    schema: Schema,
    task_name: str,
    texts: Mapping[str, str],
    accepted_predictions: AcceptedPredictions = "keep",
    seed: int = 0,
) -> list[AgreementRow]:
    """CROWDLAB's quality of each annotator (scope ``annotator``, metric ``crowdlab quality``;
    ``n_units``: the units they labelled; no interval), best first. ``texts``: unit or article id
    -> the article's text. No rows where CROWDLAB has nothing to weigh (fewer than two annotators,
    or none sharing a unit)."""
    from annotation.crowdlab import applies, from_annotations

    task = schema.task(task_name)
    rows = submitted(frame, exclude_accepted=accepted_predictions != "keep")
    if not len(rows) or not applies(rows):
        return []
    result = from_annotations(rows, task.codes, task.multi_label, texts, task_name, seed)
    return [
        AgreementRow("annotator", str(name), "crowdlab quality", float(q), math.nan, math.nan, int(n))
        for name, q, n in zip(
            result.annotators.index, result.annotators["quality"], result.annotators["items"], strict=True
        )
    ]


def heatmap(report: AgreementReport, path: Path) -> Path:
    """A PNG heatmap of Cohen's kappa for every annotator pair."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = report.kappa_matrix()
    size = max(3.0, 0.8 * len(matrix) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(matrix.to_numpy(dtype=float), vmin=-1, vmax=1, cmap="RdYlGn")
    ax.set_xticks(range(len(matrix)), matrix.columns, rotation=45, ha="right")
    ax.set_yticks(range(len(matrix)), matrix.index)
    for (i, j), value in np.ndenumerate(matrix.to_numpy(dtype=float)):
        ax.text(j, i, "n/a" if math.isnan(value) else f"{value:.2f}", ha="center", va="center", fontsize=8)
    ax.set_title(f"{report.task}: Cohen's kappa per annotator pair ({report.n_units} shared units)")
    fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    tmp.replace(path)
    return path
