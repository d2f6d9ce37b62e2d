"""The one record shape every source of labels yields.

Gold labels taken from Label Studio annotations and every external importer
produce ``LabeledItem``s; the dataset builder turns them into schema features.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LabeledItem:
    id: str  #: unique within its dataset
    text: str  #: the article body (or sentence) to classify
    labels: tuple[str, ...]  #: label codes; exactly one for single-label tasks
    split: str  #: "train", "validation" or "test"; "" when the builder splits
    article_id: str  #: items of one article share it (and so share a split)
    target: str = ""  #: stance only: the target (a schema target name or a headline)
    lang: str = ""
    source: str = ""
    title: str = ""
    url: str = ""
    published: str = ""  #: ISO date when known (time-based splits use it)
    licence: str = ""
    attribution: str = ""  #: credit as the licence asks (author and source)
    author: str = ""  #: who wrote it (a byline, a tweet's account); models may read it as context
    group: str = ""  #: leakage group (near-duplicate cluster); "" means the article
    n_annotators: int | None = None  #: None for external sets
    agreement: float | None = None  #: agreement of the annotators with the gold labels

    @property
    def leakage_group(self) -> str:
        return self.group or self.article_id
