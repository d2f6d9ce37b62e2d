"""`newslab dataset build` from pulled annotations and a real corpus store."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest
import yaml

from core.errors import NewslabError
from core.schema import load_schema
from core.settings import Settings
from corpus.ingest import ingest
from corpus.store import Store
from dataset.build import build, load

SCHEMA = load_schema()
WORDS = [
    "army", "minister", "talks", "border", "sanctions", "treaty", "summit", "missile", "drone", "protest",
    "court", "police", "election", "parliament", "vote", "rally", "strike", "ceasefire", "aid", "convoy",
    "refugees", "trade", "oil", "gas", "pipeline", "bank", "market", "ruling", "reform", "budget", "tax",
    "school", "hospital", "storm", "flood", "harvest", "port", "airport", "railway", "bridge",
]  # fmt: skip


def _text(rng: random.Random, target: str) -> str:
    return f"{target} " + " ".join(rng.choice(WORDS) for _ in range(220)) + "."


@pytest.fixture()
def corpus(settings: Settings, tmp_path: Path) -> list[str]:
    """24 English articles, two of them near-duplicates of each other, in the store; their ids."""
    rng = random.Random(0)
    records = []
    for k in range(24):
        target = ("Russia", "Iran")[k % 2]
        records.append(
            {
                "title": f"A{k}",
                "text": _text(rng, target),
                "source": "wire",
                "date": f"2024-02-{k + 1:02d}",
                "license": "CC BY 4.0",
                "attribution": f"Reporter {k}",
                "url": f"https://example.org/{k}",
            }
        )
    near = records[0]["text"].split()
    near[100] = "harbour"  # one word changed: a near-duplicate of article 0
    records.append(
        {**records[0], "title": "A0 (update)", "text": " ".join(near), "url": "https://example.org/0b"}
    )
    path = tmp_path / "articles.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    report = ingest([path], root=settings.corpus_dir)
    assert report.added == 25
    store = Store(settings.corpus_dir)
    ids = [row["id"] for row in store.table(["id", "title"]).to_pylist()]
    assert store.cluster_of(ids[0])["cluster_size"] == 2
    return ids


def _annotations(ids: list[str], settings: Settings, flip: int | None = None) -> None:
    """Two annotators on every article (events) and article-target pair (stance); a few disagreements."""
    events, stance = [], []
    for k, article in enumerate(ids):
        target = "russia" if k % 2 == 0 or k == 24 else "iran"
        for who in ("ann@example.org", "bob@example.org"):
            label = ("AGREE", "ASSAULT", "PROTEST")[k % 3]
            if who == "bob@example.org" and k % 7 == 3:
                label = "CONSULT"
            stance_label = ("favor", "against", "neutral")[k % 3]
            if who == "bob@example.org" and k == flip:
                stance_label = "unrelated"
            common = {
                "kind": "annotation",
                "article_id": article,
                "annotator": who,
                "cancelled": False,
                "ground_truth": False,
                "updated_at": f"2026-01-01T00:00:{k:02d}",
            }
            events.append({**common, "project": "newslab/event_type", "target": "", "labels": [label]})
            stance.append({**common, "project": "newslab/stance", "target": target, "labels": [stance_label]})
    settings.annotations_dir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(events).to_parquet(settings.annotations_dir / "event_type.parquet")
    pd.DataFrame(stance).to_parquet(settings.annotations_dir / "stance.parquet")


def _config(tmp_path: Path, **changes) -> Path:
    config = {
        "name": "pilot",
        "description": "test pilot",
        "configs": {"events": "event_type", "stance": "stance"},
        "gold": {"method": "majority"},
        "splits": {"fractions": {"train": 0.5, "validation": 0.25, "test": 0.25}, "seed": 3},
        **changes,
    }
    path = tmp_path / "pilot.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_build_two_configurations_from_annotations(
    settings: Settings, corpus: list[str], tmp_path: Path
) -> None:
    _annotations(corpus, settings)
    built = build(str(_config(tmp_path)))
    assert built.written and set(built.configs) == {"events", "stance"}
    assert sum(built.configs["events"].values()) == 25 and sum(built.configs["stance"].values()) == 25

    events, meta = load(built.path / "events")
    assert events["train"].features["labels"].feature.names == SCHEMA.task("event_type").codes
    assert meta["task"] == "event_type"
    stance, _ = load(built.path / "stance")
    assert stance["test"].features["label"].names == SCHEMA.task("stance").codes
    rows = [r for split in stance.values() for r in split]
    assert {r["n_annotators"] for r in rows} == {2}
    assert {r["licence"] for r in rows} == {"CC BY 4.0"} and all(r["attribution"] for r in rows)
    assert {r["id"].split(":")[1] for r in rows} == {"russia", "iran"}

    # the two near-duplicates share a group and a split, in both configurations
    for ds in (events, stance):
        split_of = {r["article_id"]: name for name, part in ds.items() for r in part}
        group_of = {r["article_id"]: r["group"] for part in ds.values() for r in part}
        pair = [a for a in corpus if group_of[a] and group_of[a] == group_of[corpus[0]]]
        assert len(pair) == 2 and split_of[pair[0]] == split_of[pair[1]]

    events_rows = {r["article_id"]: r for part in events.values() for r in part}
    disagreed = corpus[3]  # k % 7 == 3: ann chose AGREE, bob CONSULT: a tie on both labels
    names = events["train"].features["labels"].feature.names
    assert [names[i] for i in events_rows[disagreed]["labels"]] == []  # majority needs more than half
    assert events_rows[disagreed]["agreement"] == 0.0 and events_rows[corpus[1]]["agreement"] == 1.0

    card = (built.path / "README.md").read_text()
    header = yaml.safe_load(card.split("---")[1])
    assert [c["config_name"] for c in header["configs"]] == ["events", "stance"]
    for c in header["configs"]:
        for f in c["data_files"]:
            assert (built.path / f["path"]).is_file()
    assert header["language"] == ["en"] and header["size_categories"] == ["n<1K"]
    assert "alpha_masi" in card and "alpha_nominal" in card  # the agreement of both tasks
    assert "CC BY 4.0" in card and "Mean item agreement" in card

    with pytest.raises(NewslabError, match="several configurations; load one of pilot/events"):
        load(built.path)

    # the card's YAML header is what the Hub (and `datasets.load_dataset`) reads
    from datasets import load_dataset

    hub = load_dataset(str(built.path.resolve()), "stance", cache_dir=str(tmp_path / "hf-cache"))
    assert {k: len(v) for k, v in hub.items()} == built.configs["stance"]
    assert hub["train"].features["label"].names == SCHEMA.task("stance").codes


def test_rebuild_from_the_same_annotations_gives_the_same_fingerprint(
    settings: Settings, corpus: list[str], tmp_path: Path
) -> None:
    _annotations(corpus, settings)
    first = build(str(_config(tmp_path)))
    again = build(str(_config(tmp_path)))
    assert again.fingerprint == first.fingerprint and not again.written
    _annotations(corpus, settings, flip=5)  # one stance label changes
    changed = build(str(_config(tmp_path)))
    assert changed.fingerprint != first.fingerprint and changed.written
    _, meta = load(changed.path / "events")
    assert (
        meta["fingerprint"]
        == json.loads(
            (
                first.path.parent / ".versions" / "pilot" / first.fingerprint / "events" / "newslab.json"
            ).read_text()
        )["fingerprint"]
    )


def test_an_unknown_label_in_the_annotations_names_the_unit(
    settings: Settings, corpus: list[str], tmp_path: Path
) -> None:
    _annotations(corpus, settings)
    path = settings.annotations_dir / "stance.parquet"
    frame = pd.read_parquet(path)
    frame["labels"] = [["sarcastic"] if i < 2 else list(v) for i, v in enumerate(frame["labels"])]
    frame.to_parquet(path)
    with pytest.raises(NewslabError, match=rf"stance.parquet: row 1: item {corpus[0]}:russia, .*'sarcastic'"):
        build(str(_config(tmp_path)))


def test_an_article_missing_from_the_corpus_is_named(
    settings: Settings, corpus: list[str], tmp_path: Path
) -> None:
    _annotations([*corpus, "deadbeefdeadbeef"], settings)
    with pytest.raises(NewslabError, match="not in the corpus store: deadbeefdeadbeef"):
        build(str(_config(tmp_path)))


def test_missing_annotations_say_what_to_run(settings: Settings, corpus: list[str], tmp_path: Path) -> None:
    with pytest.raises(NewslabError, match="newslab annotate pull"):
        build(str(_config(tmp_path)))
