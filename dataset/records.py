"""The one record shape every source of labels yields.

A Label Studio export (after gold labels are chosen) and every external importer
produce ``LabeledItem``s; the dataset builder turns them into schema features.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LabeledItem:
    id: str  #: unique within its dataset
    text: str  #: the article body (or sentence) to classify
    labels: tuple[str, ...]  #: label codes; exactly one for single-label tasks
    split: str  #: "train", "validation" or "test"
    article_id: str  #: items of one article share it (and so share a split)
    target: str = ""  #: stance only: the target (a schema target name or a headline)
    lang: str = ""
    source: str = ""
