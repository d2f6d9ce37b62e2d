from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import NewslabError
from dataset.config import load_dataset_config
from dataset.importers import cameo, fnc1, get_importer


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
    known = "unknown importer .nope.; known: cameo_pentacode, conref_stance_ita, fnc1, plover_gsr, table"
    with pytest.raises(NewslabError, match=known):
        get_importer("nope")


def test_a_new_module_registers_its_importer_by_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Adding an importer is adding a module: the package finds it, no list to edit."""
    import sys

    import dataset.importers as package

    (tmp_path / "mine.py").write_text(
        "from dataset.importers import register\n"
        "from dataset.records import LabeledItem\n\n"
        "@register('mine')\n"
        "def read(directory, config):\n"
        "    yield LabeledItem(id='m1', text='hello', labels=('AGREE',), split='', article_id='m1')\n"
    )
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    monkeypatch.delitem(sys.modules, "dataset.importers.mine", raising=False)
    with package.REGISTRY.scoped():
        monkeypatch.setattr(package.REGISTRY, "_loaded", False)  # discover again, with the new folder
        try:
            assert [i.id for i in get_importer("mine")(tmp_path, None)] == ["m1"]  # type: ignore[arg-type]
            with pytest.raises(ValueError, match="registered twice"):
                package.register("mine")(lambda directory, config: [])
        finally:
            sys.modules.pop("dataset.importers.mine", None)
    assert "mine" not in package.registry()


PLOVER_SAMPLE = """[
{
    "id": "PLOVER-GSR01-DOCUMENT-0001",
    "event": "DOCUMENT",
    "eventText": "documentation {with braces} in a string",
    "comment": "see the readme",
},
{
    "id": "PLOVER-GSR01-AGREE-0001",
    "source": [{"actorText": "Hungarian", "code": "HUN"},
               {"actorText": "Romanian", "code": "ROU"},],
    "event": "AGREE",
    "text": "Senior Hungarian and Romanian officials agreed on Wednesday.",
    "language": "en",
},
{
    "id": "PLOVER-GSR01-FIGHT-0001",
    "event": "FIGHT",
    "text": "Rebels clashed with troops.",
},
{
    "id": "PLOVER-GSR01-COERCE-0001",
    "event": "COERCE",
    "text": "Rebels clashed with troops.",
}
]
"""


def test_plover_reads_the_json_like_file_and_merges_records_of_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "PLOVER_GSR_CAMEO.txt").write_text(PLOVER_SAMPLE)
    config = load_dataset_config("plover_gsr")
    items = list(get_importer("plover_gsr")(tmp_path, config))
    assert [(i.id, i.labels) for i in items] == [
        ("PLOVER-GSR01-AGREE-0001", ("AGREE",)),
        ("PLOVER-GSR01-FIGHT-0001", ("COERCE", "FIGHT")),
    ]
    assert items[0].split == "" and items[0].licence.startswith("CC BY-SA")


def test_plover_broken_record_names_the_line(tmp_path: Path) -> None:
    broken = PLOVER_SAMPLE.replace('"event": "FIGHT",', '"event": FIGHT,')
    (tmp_path / "PLOVER_GSR_CAMEO.txt").write_text(broken)
    with pytest.raises(NewslabError, match=r"PLOVER_GSR_CAMEO.txt: line 18: malformed record"):
        list(get_importer("plover_gsr")(tmp_path, load_dataset_config("plover_gsr")))


def test_plover_real_file_has_every_record(shared: Path) -> None:
    config = load_dataset_config("plover_gsr")
    items = list(get_importer("plover_gsr")(shared / "benchmarks" / "plover_gsr", config))
    labels = [label for i in items for label in i.labels]
    # 323 records: 1 DOCUMENT left out, 2 repeat a sentence with the same event, and records
    # sharing a sentence are merged into one multi-label item (316 sentences)
    assert len(labels) == 320 and labels.count("FIGHT") == 17 and labels.count("AGREE") == 40
    assert len(items) == len({i.text for i in items}) == 316


CONREF_HEADER = '"id","Tweet","Stance","Set","screen_name","user_id","date","POS","POSplus","textplus"\n'


def test_conref_masks_every_hashtag_when_asked(tmp_path: Path) -> None:
    (tmp_path / "referendum_it.csv").write_text(
        CONREF_HEADER
        + '"1","Voto convinto #IoVotoSI #referendum","favor","Training","u","1","2016-11-22","","",""\n'
        + '"2","Non passa! #iovotono","agains","Test","u","1","2016-11-23 10:00:00","","",""\n'
    )
    masked = list(get_importer("conref_stance_ita")(tmp_path, load_dataset_config("conref_ita")))
    assert [i.text for i in masked] == ["Voto convinto #hashtag #hashtag", "Non passa! #hashtag"]
    assert [(i.split, i.labels) for i in masked] == [("train", ("favor",)), ("test", ("agains",))]
    assert masked[0].target.startswith("riforma costituzionale") and masked[0].lang == "it"
    assert masked[0].author == "@u"  # the account, for models that read the author
    kept = list(get_importer("conref_stance_ita")(tmp_path, load_dataset_config("conref_ita_hashtags")))
    assert kept[0].text == "Voto convinto #IoVotoSI #referendum"


def test_conref_unknown_set_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "referendum_it.csv").write_text(CONREF_HEADER + '"1","x","favor","Dev","u","1","","","",""\n')
    with pytest.raises(NewslabError, match=r"referendum_it.csv: line 2: Set 'Dev'"):
        list(get_importer("conref_stance_ita")(tmp_path, load_dataset_config("conref_ita")))


def test_conref_real_file_no_vote_hashtag_survives_masking(shared: Path) -> None:
    items = list(
        get_importer("conref_stance_ita")(
            shared / "benchmarks" / "conref_stance_ita", load_dataset_config("conref_ita")
        )
    )
    assert len(items) == 833
    assert sum(i.split == "train" for i in items) == 666
    assert not [i.id for i in items if "#iovoto" in i.text.lower() or "#bastaunsi" in i.text.lower()]
    assert all(i.author.startswith("@") for i in items)
    assert len({i.author for i in items}) == 636  # accounts: some tweeted several times
