"""ConfliBERT's CAMEO pentacode set: ``sentence<TAB>label`` lines, no header."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from core.errors import NewslabError
from dataset.config import DatasetConfig
from dataset.importers import register
from dataset.records import LabeledItem

SPLITS = ("train", "test")


@register("cameo_pentacode")
def read(directory: Path, config: DatasetConfig) -> Iterator[LabeledItem]:
    for split in SPLITS:
        path = directory / f"{split}.tsv"
        if not path.is_file():
            raise NewslabError(f"{path}: file not found.", f"Run `newslab assets fetch {config.asset}`.")
        with open(path, encoding="utf-8") as fh:
            for line_no, line in enumerate(fh, start=1):
                line = line.rstrip("\n").rstrip("\r")
                if not line.strip():
                    continue
                sentence, sep, label = line.rpartition("\t")
                if not sep or not sentence.strip() or not label.strip():
                    raise NewslabError(
                        f"{path}: line {line_no}: expected 'sentence<TAB>label', got {line[:60]!r}."
                    )
                item_id = f"cameo-{split}-{line_no:05d}"
                yield LabeledItem(
                    id=item_id,
                    text=sentence.strip(),
                    labels=(label.strip(),),
                    split=split,
                    article_id=item_id,
                    lang=config.lang,
                    source=config.source,
                )
