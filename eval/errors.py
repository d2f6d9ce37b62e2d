"""Error analysis of a run's test predictions: which labels it confuses, and where it is confidently wrong.

- Confused pairs: (gold, predicted) label pairs of the wrong predictions, most frequent
  first, with a few example items. For multi-label items every gold label the model
  missed is paired with every label it wrongly added; a miss with nothing added in its
  place pairs with ``(none)`` as predicted, an addition with no miss with ``(none)`` as gold.
- Confident errors: the wrong predicted labels with the highest probability the model
  gave them (single-label: the item's predicted label when it is not the gold one;
  multi-label: each predicted label not among the gold ones).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

import pandas as pd

from eval.calibration import PROBA

NONE = "(none)"
TOP = 10
EXAMPLES = 3


@dataclass(frozen=True)
class Example:
    id: str
    snippet: str


@dataclass(frozen=True)
class ConfusedPair:
    gold: str
    pred: str
    count: int
    examples: list[Example] = field(default_factory=list)


@dataclass(frozen=True)
class ConfidentError:
    id: str
    gold: str  #: the gold label (multi-label: the gold labels joined by ", ")
    pred: str  #: the wrong predicted label
    probability: float  #: the probability the model gave ``pred``
    snippet: str


@dataclass(frozen=True)
class ErrorAnalysis:
    confused: list[ConfusedPair]
    confident: list[ConfidentError]

    def to_dict(self) -> dict:
        return {
            "confused": [asdict(c) for c in self.confused],
            "confident": [asdict(c) for c in self.confident],
        }

    @classmethod
    def from_dict(cls, data: dict) -> ErrorAnalysis:
        confused = [
            ConfusedPair(c["gold"], c["pred"], int(c["count"]), [Example(**e) for e in c.get("examples", [])])
            for c in data.get("confused", [])
        ]
        return cls(confused, [ConfidentError(**c) for c in data.get("confident", [])])


def _snippets(predictions: pd.DataFrame) -> list[str]:
    if "text" not in predictions.columns:
        return [""] * len(predictions)
    return [
        "" if t is None or (isinstance(t, float) and math.isnan(t)) else str(t) for t in predictions["text"]
    ]


def _wrong_pairs(gold: object, pred: object, multi_label: bool) -> list[tuple[str, str]]:
    if not multi_label:
        return [] if gold == pred else [(str(gold), str(pred))]
    g, p = set(gold), set(pred)  # type: ignore[call-overload]
    missed, added = sorted(g - p), sorted(p - g)
    return [(a, b) for a in missed or [NONE] for b in added or [NONE] if (a, b) != (NONE, NONE)]


def confused_pairs(
    predictions: pd.DataFrame, multi_label: bool, top: int = TOP, examples: int = EXAMPLES
) -> list[ConfusedPair]:
    """The ``top`` most frequent (gold, predicted) confusions, each with up to ``examples`` items
    (in the frame's order)."""
    counts: Counter[tuple[str, str]] = Counter()
    items: dict[tuple[str, str], list[Example]] = defaultdict(list)
    for item_id, gold, pred, snippet in zip(
        predictions["id"], predictions["gold"], predictions["pred"], _snippets(predictions), strict=True
    ):
        for pair in _wrong_pairs(gold, pred, multi_label):
            counts[pair] += 1
            if len(items[pair]) < examples:
                items[pair].append(Example(str(item_id), snippet))
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [ConfusedPair(g, p, n, items[(g, p)]) for (g, p), n in ranked]


def confident_errors(predictions: pd.DataFrame, multi_label: bool, top: int = TOP) -> list[ConfidentError]:
    """The ``top`` wrong predicted labels the model was most sure of (ties: by item id)."""
    out: list[ConfidentError] = []
    for row, snippet in zip(predictions.to_dict("records"), _snippets(predictions), strict=True):
        gold, pred = row["gold"], row["pred"]
        wrong = sorted(set(pred) - set(gold)) if multi_label else ([] if pred == gold else [pred])
        for label in wrong:
            probability = row.get(f"{PROBA}{label}")
            if probability is None or math.isnan(probability):
                continue
            shown = ", ".join(gold) if multi_label else str(gold)
            out.append(ConfidentError(str(row["id"]), shown, str(label), float(probability), snippet))
    return sorted(out, key=lambda e: (-e.probability, e.id, e.pred))[:top]


def analyse(
    predictions: pd.DataFrame, multi_label: bool, top: int = TOP, examples: int = EXAMPLES
) -> ErrorAnalysis:
    return ErrorAnalysis(
        confused_pairs(predictions, multi_label, top, examples),
        confident_errors(predictions, multi_label, top),
    )


def confident_frame(analysis: ErrorAnalysis) -> pd.DataFrame:
    """The confident errors as a table (the CSV logged beside the JSON)."""
    columns = ["id", "gold", "pred", "probability", "snippet"]
    return pd.DataFrame([asdict(e) for e in analysis.confident], columns=columns)
