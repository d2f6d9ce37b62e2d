"""The generic table importer, end to end: a labelled set newslab has never seen, in every format."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from core.assets import sha256_of
from core.errors import NewslabError
from core.schema import load_schema
from core.settings import Settings
from dataset.build import build, features_for, load
from dataset.config import load_dataset_config
from dataset.source_lock import lock_path

SCHEMA = load_schema()
STANCES = ("pro", "contra", "neutral")
MAPPED = {"pro": "favor", "contra": "against", "neutral": "neutral"}
TARGETS = ("Tempolimit auf Autobahnen", "nuclear power")
EVENTS = ("AGREE", "PROTEST|COERCE", "ASSAULT", "CONSULT|AGREE")


def _rows(n: int = 60) -> list[dict]:
    """German and English sentences with a stance, a target, events and a date each."""
    rows = []
    for i in range(n):
        german = i % 2 == 0
        text = (
            f"Satz Nummer {i}: die Regierung äußert sich zum Thema {TARGETS[i % 2]}."
            if german
            else f"Sentence number {i}: the minister spoke about {TARGETS[i % 2]}."
        )
        rows.append(
            {
                "uid": f"r{i:03d}",
                "Text": text,
                "Haltung": STANCES[i % 3],
                "Ziel": TARGETS[i % 2],
                "Sprache": "de" if german else "en",
                "Autor": f"@author{i % 7}",
                "Datum": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "events": EVENTS[i % 4],
                "set": ("train", "train", "train", "dev", "test")[i % 5],
            }
        )
    return rows


def _csv(path: Path, rows: list[dict], delimiter: str = ",") -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _config(folder: Path, name: str, **body: object) -> str:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, **body}, allow_unicode=True), encoding="utf-8")
    return str(path)


def _stance_csv_config(folder: Path, data: Path, name: str = "haltung") -> str:
    return _config(
        folder,
        name,
        task="stance",
        lang="de",
        source="a test set",
        licence="CC0",
        label_map=MAPPED,
        splits={"fractions": {"train": 0.7, "validation": 0.15, "test": 0.15}, "seed": 3},
        table={
            "files": [str(data)],
            "columns": {
                "text": "Text",
                "label": "Haltung",
                "target": "Ziel",
                "lang": "Sprache",
                "author": "Autor",
                "date": "Datum",
                "id": "uid",
            },
        },
    )


def _decoded(ds: Dataset, column: str = "label") -> list:
    feature = ds.features[column]
    if isinstance(feature, ClassLabel):
        return [feature.int2str(v) for v in ds[column]]
    return [[feature.feature.int2str(v) for v in row] for row in ds[column]]


def test_csv_builds_with_made_splits_mapped_labels_and_every_column(
    settings: Settings, tmp_path: Path
) -> None:
    rows = _rows()
    data = _csv(tmp_path / "haltung.csv", rows)
    before = sha256_of(data)
    built = build(_stance_csv_config(tmp_path, data))
    ds, meta = load(built.path)

    assert set(ds) == {"train", "validation", "test"} and sum(built.counts.values()) == 60
    assert list(ds["train"].features) == list(features_for(SCHEMA.task("stance")))
    assert ds["train"].features["label"].names == SCHEMA.task("stance").codes
    by_id = {
        r["id"]: (r, label) for split in ds.values() for r, label in zip(split, _decoded(split), strict=True)
    }
    row, label = by_id["r004"]
    assert rows[4]["Haltung"] == "contra" and label == "against"
    assert row["target"] == TARGETS[0] and row["lang"] == "de" and row["author"] == "@author4"
    assert row["published"] == "2024-05-05" and row["source"] == "a test set" and row["licence"] == "CC0"
    assert by_id["r001"][0]["lang"] == "en"
    assert meta["label_distribution"]["train"].keys() <= {"favor", "against", "neutral"}

    # the source's sha256 is recorded, the file untouched
    lock = json.loads(lock_path("haltung", settings).read_text())
    assert lock["files"][str(data.resolve())]["sha256"] == before == sha256_of(data)

    # rebuilding is idempotent: nothing written, the same fingerprint, the lock unchanged
    lock_bytes = lock_path("haltung", settings).read_bytes()
    again = build(_stance_csv_config(tmp_path, data))
    assert not again.written and again.fingerprint == built.fingerprint
    assert lock_path("haltung", settings).read_bytes() == lock_bytes


def test_a_changed_source_is_refused_until_accepted(settings: Settings, tmp_path: Path) -> None:
    rows = _rows()
    data = _csv(tmp_path / "haltung.csv", rows)
    config = _stance_csv_config(tmp_path, data)
    first = build(config)
    old = sha256_of(data)
    _csv(data, [*rows, {**rows[0], "uid": "r999", "Text": "Ein neuer Satz."}])
    new = sha256_of(data)

    with pytest.raises(NewslabError) as err:
        build(config)
    message = str(err.value)
    assert str(data) in message and old in message and new in message and "--accept-changes" in message
    _, meta = load(first.path)  # the dataset built before stays current
    assert meta["fingerprint"] == first.fingerprint

    accepted = build(config, accept_changes=True)
    assert accepted.written and accepted.fingerprint != first.fingerprint
    assert sum(accepted.counts.values()) == 61
    lock = json.loads(lock_path("haltung", settings).read_text())
    assert lock["files"][str(data.resolve())]["sha256"] == new
    assert not build(config).written  # accepted once, then the new file is the locked one


def test_jsonl_multi_label_with_separator_and_a_split_column(settings: Settings, tmp_path: Path) -> None:
    data = _jsonl(tmp_path / "events.jsonl", _rows())
    config = _config(
        tmp_path,
        "ereignisse",
        task="event_type",
        lang="de",
        table={
            "files": [str(data)],
            "columns": {"text": "Text", "labels": "events", "split": "set", "lang": "Sprache"},
            "label_separator": "|",
            "split_values": {"dev": "validation"},
        },
    )
    built = build(config)
    ds, _ = load(built.path)
    assert built.counts == {"train": 36, "validation": 12, "test": 12}
    assert ds["train"].features["labels"].feature.names == SCHEMA.task("event_type").codes
    labels = dict(zip(ds["train"]["id"], _decoded(ds["train"], "labels"), strict=True))
    assert labels["events-00002"] == ["PROTEST", "COERCE"] and labels["events-00001"] == ["AGREE"]
    assert "events-00004" in ds["validation"]["id"]  # rows 4, 9, ... are "dev"


def test_parquet_files_give_their_splits_and_classlabel_or_int_labels(
    settings: Settings, tmp_path: Path
) -> None:
    rows = _rows(40)
    for split, part in (("train", rows[:30]), ("test", rows[30:])):
        table = pa.table(
            {
                "sentence": [r["Text"] for r in part],
                "code": pa.array([i % 5 for i in range(len(part))], pa.int64()),
                "when": [datetime(2024, 1, 1 + i % 28) for i in range(len(part))],
            }
        )
        pq.write_table(table, tmp_path / f"{split}.parquet")
    config = _config(
        tmp_path,
        "quads",
        task="event_quad",
        lang="en",
        label_map={"0": "statement", "1": "verbal_cooperation", "2": "material_cooperation"}
        | {"3": "verbal_conflict", "4": "material_conflict"},
        table={
            "files": [
                {"path": str(tmp_path / "train.parquet"), "split": "train"},
                {"path": str(tmp_path / "test.parquet"), "split": "test"},
            ],
            "columns": {"text": "sentence", "label": "code", "date": "when"},
        },
    )
    built = build(config)
    ds, _ = load(built.path)
    assert built.counts == {"train": 30, "test": 10}
    assert _decoded(ds["train"])[:6] == [
        "statement",
        "verbal_cooperation",
        "material_cooperation",
        "verbal_conflict",
        "material_conflict",
        "statement",
    ]
    assert ds["test"]["id"][0] == "test-00001" and ds["train"]["published"][0] == "2024-01-01T00:00:00"


def test_a_saved_dataset_folder_with_classlabels_and_a_fixed_target(
    settings: Settings, tmp_path: Path
) -> None:
    rows = _rows(30)
    features = Features({"text": Value("string"), "stance": ClassLabel(names=list(STANCES))})
    part = lambda rs: Dataset.from_dict(  # noqa: E731
        {"text": [r["Text"] for r in rs], "stance": [STANCES.index(r["Haltung"]) for r in rs]},
        features=features,
    )
    DatasetDict({"train": part(rows[:20]), "dev": part(rows[20:25]), "test": part(rows[25:])}).save_to_disk(
        str(tmp_path / "saved")
    )
    config = _config(
        tmp_path,
        "gespeichert",
        task="stance",
        lang="de",
        label_map=MAPPED,
        table={
            "files": [str(tmp_path / "saved")],
            "columns": {"text": "text", "label": "stance"},
            "target": "Tempolimit auf Autobahnen",
            "split_values": {"dev": "validation"},
        },
    )
    built = build(config)
    ds, _ = load(built.path)
    assert built.counts == {"train": 20, "validation": 5, "test": 5}
    assert _decoded(ds["train"])[:3] == ["favor", "against", "neutral"]
    assert set(ds["test"]["target"]) == {"Tempolimit auf Autobahnen"}
    assert ds["validation"]["id"][0] == "saved-dev-00001"
    lock = json.loads(lock_path("gespeichert", settings).read_text())
    assert len(lock["files"][str((tmp_path / "saved").resolve())]["sha256"]) == 64
    assert not build(config).written


def _csv_error(settings: Settings, tmp_path: Path, rows: list[dict]) -> str:
    data = _csv(tmp_path / "bad.csv", rows)
    with pytest.raises(NewslabError) as err:
        build(_stance_csv_config(tmp_path, data, name="bad"))
    assert not lock_path("bad", settings).exists()  # a refused build locks nothing
    return err.value.message


def test_csv_missing_column_names_the_file_line_and_field(settings: Settings, tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "Haltung"} for r in _rows(5)]
    message = _csv_error(settings, tmp_path, rows)
    assert "bad.csv: line 1: missing column(s) 'Haltung' (columns.label)" in message


def test_empty_text_and_missing_label_name_the_line_and_field(settings: Settings, tmp_path: Path) -> None:
    rows = _rows(5)
    rows[2]["Text"] = "  "
    assert "bad.csv: line 4: field text (column 'Text') is empty" in _csv_error(settings, tmp_path, rows)
    rows = _rows(5)
    rows[3]["Haltung"] = ""
    assert "bad.csv: line 5: field label (column 'Haltung') is empty: no label" in _csv_error(
        settings, tmp_path, rows
    )


def test_jsonl_unknown_split_malformed_line_and_missing_field(settings: Settings, tmp_path: Path) -> None:
    def error(lines: str, **table: object) -> str:
        data = tmp_path / "bad.jsonl"
        data.write_text(lines, encoding="utf-8")
        config = _config(
            tmp_path,
            "bad_jsonl",
            task="event_type",
            table={"files": [str(data)], "columns": {"text": "t", "labels": "l", "split": "s"}, **table},
        )
        with pytest.raises(NewslabError) as err:
            build(config)
        return str(err.value)  # the message and its hint

    good = '{"t": "Ein Satz.", "l": ["AGREE"], "s": "train"}\n'
    message = error(good + '{"t": "Noch einer.", "l": ["AGREE"], "s": "holdout"}\n')
    assert "bad.jsonl: line 2: field split (column 's'): unknown split value 'holdout'" in message
    assert "train, validation" in message
    message = error(good + "\n" + '{"t": "kaputt", "l": [}\n')
    assert "bad.jsonl: line 3: not a table row (malformed JSON" in message
    message = error(good + '{"t": "Ohne Split.", "l": ["AGREE"]}\n')
    assert "bad.jsonl: line 2: missing column(s) 's' (columns.split)" in message
    message = error(good + '{"t": "Keine Labels.", "l": [], "s": "test"}\n')
    assert "bad.jsonl: line 2: field labels (column 'l') is empty" in message
    assert "allow_empty_labels" in message  # the hint says how to allow it


def test_multi_label_rows_without_labels_when_allowed(settings: Settings, tmp_path: Path) -> None:
    data = _jsonl(
        tmp_path / "some.jsonl", [{"t": f"Satz {i}", "l": "" if i % 2 else "AGREE"} for i in range(10)]
    )
    config = _config(
        tmp_path,
        "leer",
        task="event_type",
        splits={"fractions": {"train": 0.5, "test": 0.5}, "seed": 1},
        table={"files": [str(data)], "columns": {"text": "t", "labels": "l"}, "allow_empty_labels": True},
    )
    ds, _ = load(build(config).path)
    assert sorted(len(x) for split in ds.values() for x in split["labels"]) == [0] * 5 + [1] * 5


def test_parquet_missing_column_and_missing_file(settings: Settings, tmp_path: Path) -> None:
    pq.write_table(pa.table({"sentence": ["a"]}), tmp_path / "x.parquet")
    config = _config(
        tmp_path,
        "pq",
        task="event_quad",
        table={"files": [str(tmp_path / "x.parquet")], "columns": {"text": "sentence", "label": "code"}},
    )
    with pytest.raises(
        NewslabError, match=r"x.parquet: columns: missing column\(s\) 'code' \(columns.label\)"
    ):
        build(config)
    (tmp_path / "x.parquet").unlink()
    with pytest.raises(NewslabError, match=r"x.parquet: file not found"):
        build(config)


def test_stance_without_a_target_is_refused(settings: Settings, tmp_path: Path) -> None:
    data = _csv(tmp_path / "ohne.csv", _rows(6))
    config = _config(
        tmp_path,
        "ohne",
        task="stance",
        label_map=MAPPED,
        splits={"fractions": {"train": 0.5, "test": 0.5}},
        table={"files": [str(data)], "columns": {"text": "Text", "label": "Haltung"}},
    )
    with pytest.raises(NewslabError, match="stance needs a target"):
        build(config)


def test_repeated_ids_name_both_rows(settings: Settings, tmp_path: Path) -> None:
    rows = _rows(4)
    rows[3]["uid"] = rows[1]["uid"]
    message = _csv_error(settings, tmp_path, rows)
    assert "bad.csv: line 5: id 'r001' repeats the one of" in message and "bad.csv: line 3" in message


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"columns": {"text": "t", "label": "a", "labels": "b"}}, "exactly one of `label`"),
        ({"columns": {"text": "t"}}, "exactly one of `label`"),
        ({"columns": {"text": "t", "label": "a"}, "split_values": {"dev": "holdout"}}, "splits are"),
        ({"columns": {"text": "t", "label": "a", "colour": "c"}}, "colour"),
    ],
)
def test_bad_table_configs_name_the_key(tmp_path: Path, table: dict, problem: str) -> None:
    config = _config(tmp_path, "cfg", task="stance", table={"files": ["x.csv"], **table})
    with pytest.raises(NewslabError) as err:
        load_dataset_config(config)
    assert "table" in err.value.message and problem in err.value.message


def test_a_table_config_needs_no_asset_and_an_asset_config_still_does(tmp_path: Path) -> None:
    config = load_dataset_config(
        _config(
            tmp_path, "ok", task="stance", table={"files": ["x.csv"], "columns": {"text": "t", "label": "l"}}
        )
    )
    assert config.importer == "table" and config.asset == ""
    with pytest.raises(NewslabError, match="needs importer, asset and task"):
        load_dataset_config(_config(tmp_path, "no", task="stance", importer="fnc1"))
