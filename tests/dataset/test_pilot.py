"""The pilot corpus: committed annotations rebuild into the dataset from the assets on a fresh machine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from annotation.tables import read_annotations
from core.errors import NewslabError
from core.settings import PROJECT_DIR, Settings
from dataset.build import build, load

PILOT = PROJECT_DIR / "annotation" / "pilot"
pytestmark = pytest.mark.slow


def _lines(name: str) -> list[dict]:
    return [json.loads(line) for line in (PILOT / name).read_text(encoding="utf-8").splitlines()]


def test_the_committed_annotations_hold_no_text_and_cover_the_pilot() -> None:
    articles = (PILOT / "articles.txt").read_text().split()
    second = set((PILOT / "second_pass.txt").read_text().split())
    assert len(articles) == len(set(articles)) >= 201 and second <= set(articles) and len(second) == 40
    events, stance = _lines("event_type.jsonl"), _lines("stance.jsonl")
    for rows in (events, stance):
        assert all(set(r) >= {"article_id", "text_hash", "annotator", "labels", "created_at"} for r in rows)
        assert not any("text" in r or "title" in r for r in rows)
    first = {r["article_id"] for r in events if r["annotator"] == "maintainer-1@newslab.local"}
    again = {r["article_id"] for r in events if r["annotator"] == "maintainer-2@newslab.local"}
    assert first == set(articles) and again == second


def test_committed_jsonl_reads_like_a_pulled_table(tmp_path: Path) -> None:
    frame = read_annotations(PILOT / "stance.parquet")  # no parquet there: the committed form is read
    assert set(frame["kind"]) == {"annotation"} and frame["target"].ne("").all()
    bad = tmp_path / "stance.jsonl"
    bad.write_text('{"article_id": "a1", "annotator": "x", "labels": ["favor"]}\n{"article_id": "a2"}\n')
    with pytest.raises(NewslabError, match=r"stance\.jsonl: line 2: not an annotation record"):
        read_annotations(tmp_path / "stance.parquet")


def test_the_pilot_rebuilds_from_the_assets_with_its_agreement(settings: Settings, shared: Path) -> None:
    built = build("pilot")
    assert built.configs["events"] and sum(built.configs["events"].values()) == 206
    assert sum(built.configs["stance"].values()) == len(_lines("stance.jsonl")) - 65  # second-pass rows
    events, meta = load(built.path / "events")
    assert meta["task"] == "event_type" and "labels" in events["train"].features
    card = (built.path / "README.md").read_text()
    assert "not human annotators" in card and "single pass, not adjudicated" in card
    assert card.count("| overall | all | alpha_masi |") == 1 and "| overall | all | alpha_nominal |" in card
    assert "40 units labelled by two or more" in card and "65 units labelled by two or more" in card
    assert build("pilot").written is False  # idempotent: same annotations, same assets


def test_an_article_changed_since_annotation_is_named(
    settings: Settings, shared: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "pilot"
    shutil.copytree(PILOT, folder)
    rows = _lines("event_type.jsonl")
    rows[0]["text_hash"] = "0" * 16
    (folder / "event_type.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = (PROJECT_DIR / "configs" / "datasets" / "pilot.yaml").read_text()
    path = tmp_path / "pilot_changed.yaml"
    path.write_text(
        config.replace("name: pilot", "name: pilot_changed").replace("annotation/pilot", str(folder))
    )
    with pytest.raises(NewslabError, match=f"changed since they were annotated .*{rows[0]['article_id']}"):
        build(str(path))
