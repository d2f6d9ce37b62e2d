"""ConRef-STANCE-ita: Italian tweets on the 2016 constitutional referendum (favor / agains / none).

The ``Set`` column gives the split (Training -> train, Test -> test). Most
tweets carry vote hashtags (#iovotosi, #iovotono, ...) that give the label
away; with ``options.mask_hashtags: true`` every hashtag is replaced by
``options.hashtag_mask`` (default ``#hashtag``), so a model has to read the
text. The stance target is ``options.target``. The tweet's account (``screen_name``)
is kept as the item's author, ``@name``: models may read it as context
(``author: true``), as Lai et al. (2020) do with their user features.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from core.errors import NewslabError
from dataset.config import DatasetConfig
from dataset.importers import register
from dataset.records import LabeledItem

FILE = "referendum_it.csv"
SPLITS = {"Training": "train", "Test": "test"}
HASHTAG = re.compile(r"#\w+")
REQUIRED = ("id", "Tweet", "Stance", "Set")


def mask_hashtags(text: str, mask: str = "#hashtag") -> str:
    return HASHTAG.sub(mask, text)


@register("conref_stance_ita")
def read(directory: Path, config: DatasetConfig) -> Iterator[LabeledItem]:
    path = directory / FILE
    if not path.is_file():
        raise NewslabError(f"{path}: file not found.", f"Run `newslab assets fetch {config.asset}`.")
    mask = bool(config.options.get("mask_hashtags", False))
    token = str(config.options.get("hashtag_mask", "#hashtag"))
    target = str(config.options.get("target", ""))
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise NewslabError(f"{path}: line 1: missing column(s) {', '.join(missing)}.")
        for row in reader:
            where = f"{path}: line {reader.line_num}"
            split = SPLITS.get(row["Set"])
            if split is None:
                raise NewslabError(f"{where}: Set {row['Set']!r} is not one of {', '.join(SPLITS)}.")
            text = row["Tweet"].strip()
            account = (row.get("screen_name") or "").strip()
            if not text:
                raise NewslabError(f"{where}: empty tweet.")
            yield LabeledItem(
                id=f"conref-{row['id']}",
                text=mask_hashtags(text, token) if mask else text,
                labels=(row["Stance"].strip(),),
                split=split,
                article_id=f"conref-{row['id']}",
                target=target,
                lang=config.lang,
                source=config.source,
                published=row.get("date", "") or "",
                licence=config.licence,
                author=f"@{account}" if account else "",
            )
