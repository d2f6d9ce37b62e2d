"""The pilot without the seed article (no public source): the same dataset minus the seed's items."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.settings import Settings, get_settings
from dataset.build import build, load

pytestmark = pytest.mark.slow
SEED = "af270c299d9081a5"


def _rows(path: Path) -> dict[str, tuple[str, dict]]:
    dataset, _ = load(path)
    return {row["id"]: (split, row) for split in dataset for row in dataset[split]}


def test_pilot_without_the_seed_is_the_same_dataset_minus_its_items(
    settings: Settings, shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    full = build("pilot")
    mirror = tmp_path / "mirror"  # the Wikinews and Global Voices files, no seed
    for asset in ("wikinews_en", "globalvoices_en"):
        (mirror / "corpus" / asset).mkdir(parents=True)
        shutil.copyfile(
            shared / "corpus" / asset / "articles.jsonl", mirror / "corpus" / asset / "articles.jsonl"
        )
    monkeypatch.setenv("NEWSLAB_MIRROR_DIR", str(mirror))
    monkeypatch.setenv("NEWSLAB_DATA_DIR", str(tmp_path / "fresh"))
    get_settings.cache_clear()
    capsys.readouterr()
    part = build("pilot")
    said = capsys.readouterr().err
    assert said.count("skipped the annotations of 1 article(s)") == 1 and "(seed)" in said and SEED in said
    for config in ("events", "stance"):
        before, after = _rows(full.path / config), _rows(part.path / config)
        gone = set(before) - set(after)
        assert gone and all(i.split(":")[0] == SEED for i in gone) and set(after) <= set(before)
        assert all(after[i] == before[i] for i in after)  # same splits, texts and labels
    card = (part.path / "README.md").read_text()
    assert card.count("### Unavailable items") == 2 and f"`{SEED}:russia`" in card
    assert "### Unavailable items" not in (full.path / "README.md").read_text()
