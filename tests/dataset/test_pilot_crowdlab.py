"""The pilot corpus builds with CROWDLAB gold labels (its model reads the articles from the store
the session's pilot fixture filled)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.settings import PROJECT_DIR
from dataset.build import build, load
from dataset.versions import META_FILE
from tests.conftest import PilotModels

PILOT = PROJECT_DIR / "annotation" / "pilot"
pytestmark = pytest.mark.slow


def test_the_pilot_builds_with_crowdlab_gold(pilot: PilotModels, tmp_path: Path) -> None:
    config = (PROJECT_DIR / "configs" / "datasets" / "pilot.yaml").read_text()
    gold = "gold:\n  method: majority\n  primary: maintainer-1@newslab.local"
    assert gold in config  # the pilot's own gold section, replaced below
    path = tmp_path / "pilot_crowdlab.yaml"
    path.write_text(
        config.replace("name: pilot", "name: pilot_crowdlab")
        .replace("annotations: annotation/pilot", f"annotations: {PILOT}")
        .replace(gold, "gold:\n  method: crowdlab")
    )
    built = build(str(path), settings=pilot.settings)
    assert sum(built.configs["events"].values()) == 206
    events, meta = load(built.path / "events")
    assert meta["task"] == "event_type"
    assert sum(len(events[s]) for s in events) == 206
    top = json.loads((built.path / META_FILE).read_text())
    assert top["gold"]["method"] == "crowdlab" and top["gold"]["primary"] == ""
    card = (built.path / "README.md").read_text()
    # every item's gold label is CROWDLAB's, events (206 articles) and stance (every pair) alike
    assert "Gold labels: `crowdlab`; items by method: crowdlab 206." in card
    stance = sum(built.configs["stance"].values())
    assert f"Gold labels: `crowdlab`; items by method: crowdlab {stance}." in card
