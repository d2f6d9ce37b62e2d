from __future__ import annotations

from pathlib import Path

import pytest

from dataset.config import load_dataset_config
from dataset.importers import cameo, fnc1, get_importer
from newslab.errors import NewslabError


def _fnc_files(d: Path, stances_extra: str = "") -> None:
    for prefix in ("train", "competition_test"):
        (d / f"{prefix}_bodies.csv").write_text(
            'Body ID,articleBody\n1,"Body one, with a comma"\n2,Body two\n'
        )
        (d / f"{prefix}_stances.csv").write_text(
            "Headline,Body ID,Stance\nA headline,1,agree\nAnother,2,unrelated\n" + stances_extra
        )


def test_fnc1_reads_pairs_with_headline_as_target(tmp_path: Path) -> None:
    _fnc_files(tmp_path)
    items = list(fnc1.read(tmp_path, load_dataset_config("fnc1")))
    assert [i.split for i in items] == ["train", "train", "test", "test"]
    first = items[0]
    assert first.id == "fnc1-train-00000" and first.target == "A headline"
    assert first.text == "Body one, with a comma" and first.labels == ("agree",)
    assert first.article_id == "fnc1-body-1" and first.lang == "en"


def test_fnc1_unknown_body_names_file_and_line(tmp_path: Path) -> None:
    _fnc_files(tmp_path, stances_extra="Orphan,99,discuss\n")
    with pytest.raises(NewslabError) as err:
        list(fnc1.read(tmp_path, load_dataset_config("fnc1")))
    assert "train_stances.csv: line 4" in err.value.message and "'99'" in err.value.message


def test_fnc1_missing_column(tmp_path: Path) -> None:
    _fnc_files(tmp_path)
    (tmp_path / "train_stances.csv").write_text("Headline,Body,Stance\nx,1,agree\n")
    with pytest.raises(NewslabError, match=r"train_stances.csv: line 1: missing column\(s\) Body ID"):
        list(fnc1.read(tmp_path, load_dataset_config("fnc1")))


def test_fnc1_missing_file_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(NewslabError, match="newslab assets fetch fnc1"):
        list(fnc1.read(tmp_path, load_dataset_config("fnc1")))


def test_cameo_reads_tsv(tmp_path: Path) -> None:
    (tmp_path / "train.tsv").write_text('He said "no" to talks.\t3\n\nTroops attacked.\t4\n')
    (tmp_path / "test.tsv").write_text("Leaders met.\t1\n")
    items = list(cameo.read(tmp_path, load_dataset_config("cameo_pentacode")))
    assert [(i.split, i.labels) for i in items] == [
        ("train", ("3",)),
        ("train", ("4",)),
        ("test", ("1",)),
    ]
    assert items[0].text == 'He said "no" to talks.'
    assert items[1].id == "cameo-train-00003"


def test_cameo_malformed_line(tmp_path: Path) -> None:
    (tmp_path / "train.tsv").write_text("fine\t1\nno tab here\n")
    (tmp_path / "test.tsv").write_text("")
    with pytest.raises(NewslabError, match=r"train.tsv: line 2: expected 'sentence<TAB>label'"):
        list(cameo.read(tmp_path, load_dataset_config("cameo_pentacode")))


def test_unknown_importer() -> None:
    with pytest.raises(NewslabError, match="known importers: cameo_pentacode, fnc1"):
        get_importer("nope")
