from __future__ import annotations

from pathlib import Path

import pytest
from datasets import ClassLabel, List

from core.errors import NewslabError
from core.schema import load_schema
from core.settings import Settings
from dataset import build as build_mod
from dataset.build import (
    build,
    features_for,
    fingerprint,
    load,
    map_labels,
    subsample,
    to_dataset_dict,
)
from dataset.config import load_dataset_config
from dataset.records import LabeledItem

SCHEMA = load_schema()


def _item(i: int, label: str = "agree", split: str = "train") -> LabeledItem:
    return LabeledItem(
        id=f"x{i}", text=f"text {i}", labels=(label,), split=split, article_id=f"a{i}", target="t"
    )


def test_features_come_from_the_schema() -> None:
    stance = features_for(SCHEMA.task("stance"))
    assert isinstance(stance["label"], ClassLabel)
    assert stance["label"].names == SCHEMA.task("stance").codes
    events = features_for(SCHEMA.task("event_type"))
    assert isinstance(events["labels"], List)
    assert events["labels"].feature.names == SCHEMA.task("event_type").codes


def test_label_map_and_unknown_label_names_the_item() -> None:
    config = load_dataset_config("fnc1")
    mapped = map_labels([_item(1, "agree"), _item(2, "discuss")], config, SCHEMA)
    assert [i.labels for i in mapped] == [("favor",), ("neutral",)]
    with pytest.raises(NewslabError) as err:
        map_labels([_item(1), _item(7, "sarcastic")], config, SCHEMA)
    assert "item x7" in err.value.message and "'sarcastic'" in err.value.message


def test_multi_label_dataset_round_trip() -> None:
    task = SCHEMA.task("event_type")
    items = [
        LabeledItem(id="e1", text="t", labels=("AGREE", "ASSAULT"), split="train", article_id="e1"),
        LabeledItem(id="e2", text="t", labels=(), split="train", article_id="e2"),
    ]
    ds = to_dataset_dict(items, task)
    names = ds["train"].features["labels"].feature.names
    assert [[names[i] for i in row] for row in ds["train"]["labels"]] == [["AGREE", "ASSAULT"], []]


def test_subsample_is_seeded_and_per_split() -> None:
    items = [_item(i, split="train") for i in range(50)] + [_item(100 + i, split="test") for i in range(5)]
    a, b = subsample(items, 10, seed=1), subsample(items, 10, seed=1)
    assert a == b
    assert sum(i.split == "train" for i in a) == 10 and sum(i.split == "test" for i in a) == 5
    assert subsample(items, 10, seed=2) != a


def test_fingerprint_changes_only_with_content() -> None:
    task = SCHEMA.task("stance")
    items = [_item(1, "favor"), _item(2, "against")]
    assert fingerprint(items, task, SCHEMA) == fingerprint(list(reversed(items)), task, SCHEMA)
    assert fingerprint(items, task, SCHEMA) != fingerprint(
        [_item(1, "favor"), _item(2, "neutral")], task, SCHEMA
    )


def test_build_real_cameo_is_idempotent_and_atomic(
    settings: Settings, shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.assets import fetch

    fetch(["cameo_pentacode"])
    first = build("cameo_pentacode")
    assert first.written and first.counts == {"train": 1349, "test": 451}
    ds, meta = load(first.path)
    assert ds["test"].features["label"].names == SCHEMA.task("event_quad").codes
    assert meta["fingerprint"] == first.fingerprint
    assert sum(meta["label_distribution"]["train"].values()) == 1349
    assert (first.path / "parquet" / "train.parquet").is_file()

    again = build("cameo_pentacode")
    assert not again.written and again.fingerprint == first.fingerprint

    assert first.path.is_symlink() and (first.path / "README.md").is_file()

    # An interrupted rebuild (here: a crash while writing Parquet) leaves the old dataset current.
    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(build_mod.Dataset, "to_parquet", crash)
    with pytest.raises(KeyboardInterrupt):
        build("cameo_pentacode", limit=100)  # a new dataset: must not be left half-made
    assert not (settings.datasets_dir / "cameo_pentacode_n100").exists()
    monkeypatch.setattr(build_mod, "fingerprint", lambda *a: "changed")  # force a new version
    with pytest.raises(KeyboardInterrupt):
        build("cameo_pentacode")
    ds2, meta2 = load(first.path)
    assert meta2["fingerprint"] == first.fingerprint and len(ds2["train"]) == 1349
    versions = settings.datasets_dir / ".versions" / "cameo_pentacode"
    assert [p.name for p in versions.iterdir() if p.name != ".lock"] == [first.fingerprint]  # no half-written


KILL_DURING_BUILD = """
import os, signal, sys
from dataset import build as b
b.fingerprint = lambda *a: "second"
def die(self, *args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
b.Dataset.to_parquet = die
b.build(sys.argv[1])
"""


def test_a_build_killed_midway_leaves_the_previous_version_loadable(
    settings: Settings, tmp_path: Path
) -> None:
    import subprocess
    import sys

    config = tmp_path / "tiny.yaml"
    config.write_text(
        "name: tiny\ntask: event_type\nimporter: plover_gsr\nasset: plover_gsr\n"
        "label_map: {FIGHT: ASSAULT}\noptions: {skip_events: [DOCUMENT]}\n"
        "splits: {fractions: {train: 0.5, test: 0.5}, seed: 1}\n"
    )
    from core.assets import asset_dir

    folder = asset_dir("plover_gsr", settings)
    folder.mkdir(parents=True)
    (folder / "PLOVER_GSR_CAMEO.txt").write_text(
        "[\n"
        + ",\n".join(
            f'{{"id": "r{k}", "event": "{("AGREE", "FIGHT")[k % 2]}", "text": "sentence {k}"}}'
            for k in range(20)
        )
        + "\n]\n"
    )
    first = build(str(config))
    proc = subprocess.run(
        [sys.executable, "-c", KILL_DURING_BUILD, str(config)],
        env={**__import__("os").environ, "NEWSLAB_DATA_DIR": str(settings.data_dir)},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == -9, proc.stderr
    ds, meta = load(first.path)
    assert meta["fingerprint"] == first.fingerprint and len(ds["train"]) + len(ds["test"]) == 20
    again = build(str(config))  # the next build cleans what the killed one left
    assert not again.written
    leftovers = [
        p.name for p in (settings.datasets_dir / ".versions" / "tiny").iterdir() if p.name != ".lock"
    ]
    assert leftovers == [first.fingerprint]


def test_load_missing_dataset_says_what_to_run(settings: Settings) -> None:
    with pytest.raises(NewslabError, match="newslab dataset build"):
        load(settings.datasets_dir / "nothing")
