"""`newslab predict`: the pilot's models over corpus articles, a dataset split and a table file,
streamed to a table that names the model; what the model logged for its test split comes back."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from core.errors import NewslabError
from core.schema import load_schema
from corpus.ingest import ingest
from eval.evaluate import CHAMPION, registered_name
from tests.conftest import PilotModels, run_cli
from training import predict_sources
from training.loading import load
from training.predict import predict, predict_model

pytestmark = pytest.mark.slow
SCHEMA = load_schema()
ARTICLES = [
    {
        "title": "Talks",
        "text": "Russia and Iran signed a deal on missiles in Tehran. The Kremlin praised the accord.",
        "lang": "en",
        "source": "test",
    },
    {
        "title": "Shelling",
        "text": "Troops shelled Kyiv overnight; Ukraine said NATO must send more air defence.",
        "lang": "en",
        "source": "test",
    },
    {
        "title": "Weather",
        "text": "Heavy rain is expected across the valley this weekend, forecasters said.",
        "lang": "en",
        "source": "other",
    },
]


@pytest.fixture()
def corpus(pilot: PilotModels, tmp_path: Path) -> PilotModels:
    """Three articles in the pilot data directory's corpus store."""
    source = tmp_path / "articles.jsonl"
    source.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    ingest([source], root=pilot.settings.corpus_dir)
    return pilot


def _ids(settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The corpus store's article id of each test article, by title."""
    from corpus.store import Store

    rows = Store(settings.corpus_dir).table(["id", "title"]).to_pylist()
    return {r["title"]: r["id"] for r in rows}


def test_events_over_the_corpus_name_labels_probabilities_and_the_model(
    corpus: PilotModels, tmp_path: Path
) -> None:
    out = tmp_path / "events.parquet"
    report = predict_model(corpus.events_run, out, settings=corpus.settings)
    table = pd.read_parquet(out)
    codes = SCHEMA.task("event_type").codes
    assert report.items == report.articles == len(table) >= 3
    assert set(_ids(corpus.settings).values()) == set(table["id"])
    assert all(isinstance(labels.tolist(), list) and set(labels) <= set(codes) for labels in table["label"])
    assert [c for c in table.columns if c.startswith("proba_")] == [f"proba_{c}" for c in codes]
    assert table["score"].between(0, 1).all()
    params = mlflow.get_run(corpus.events_run).data.params
    assert set(table["run_id"]) == {corpus.events_run} and set(table["model_version"]) == {corpus.events_run}
    assert set(table["dataset_fingerprint"]) == {params["dataset.fingerprint"]}
    assert set(table["model_uri"]) == {f"runs:/{corpus.events_run}/model"}
    assert report.items_per_second > 0


def test_stance_makes_the_article_target_pairs_push_makes(corpus: PilotModels, tmp_path: Path) -> None:
    from annotation.push import ArticleRow, make_tasks, task_key

    out = tmp_path / "stance.jsonl"
    uri = f"models:/{registered_name('stance', 'pilot')}@{CHAMPION}"
    ids = _ids(corpus.settings)
    predict_model(uri, out, ids=[ids[a["title"]] for a in ARTICLES], settings=corpus.settings)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    articles = [ArticleRow(ids[a["title"]], a["title"], a["text"], "en") for a in ARTICLES]
    tasks = make_tasks(SCHEMA, "stance", articles)
    assert sorted(r["id"] for r in rows) == sorted(task_key(t) for t in tasks)
    assert {r["target"] for r in rows} >= {"russia", "iran", "ukraine", "nato"}
    assert {r["label"] for r in rows} <= set(SCHEMA.task("stance").codes)
    assert {r["model_version"] for r in rows} == {f"{registered_name('stance', 'pilot')}/1"}
    assert {r["run_id"] for r in rows} == {corpus.stance_run}


def test_a_dataset_split_gives_back_the_runs_logged_test_predictions(
    pilot: PilotModels, tmp_path: Path
) -> None:
    """The pyfunc contract and the training stage agree: the same labels and probabilities."""
    out = tmp_path / "test.parquet"
    predict_model(pilot.stance_run, out, dataset="pilot/stance", split="test", settings=pilot.settings)
    ours = pd.read_parquet(out).set_index("id")
    logged = mlflow.artifacts.download_artifacts(f"runs:/{pilot.stance_run}/predictions/test.parquet")
    theirs = pd.read_parquet(logged).set_index("id").loc[ours.index]
    assert list(ours["label"]) == list(theirs["pred"])
    probas = [c for c in theirs.columns if c.startswith("proba_")]
    assert (ours[probas] - theirs[probas]).abs().to_numpy().max() < 1e-9


def test_a_table_file_and_its_errors(pilot: PilotModels, tmp_path: Path) -> None:
    table = tmp_path / "items.csv"
    pd.DataFrame(
        {"text": ["Russia threatened Ukraine.", "Iran praised Russia."], "target": ["russia", "iran"]}
    ).to_csv(table, index=False)
    out = tmp_path / "items.parquet"
    report = predict_model(pilot.stance_run, out, table=table, settings=pilot.settings)
    frame = pd.read_parquet(out)
    assert (
        report.items == 2 and list(frame["id"]) == ["1", "2"] and list(frame["target"]) == ["russia", "iran"]
    )

    texts_only = tmp_path / "texts.csv"
    pd.DataFrame({"text": ["Russia threatened Ukraine."]}).to_csv(texts_only, index=False)
    with pytest.raises(NewslabError, match=rf"{texts_only}: missing column\(s\) target"):
        predict_model(pilot.stance_run, tmp_path / "x.parquet", table=texts_only, settings=pilot.settings)
    with pytest.raises(NewslabError, match=r"\.parquet or \.jsonl"):
        predict_model(pilot.stance_run, tmp_path / "x.csv", table=table, settings=pilot.settings)
    assert not (tmp_path / "x.parquet").exists()


def test_a_missing_model_and_unknown_ids_are_refused_before_writing(
    corpus: PilotModels, tmp_path: Path
) -> None:
    out = tmp_path / "p.parquet"
    with pytest.raises(NewslabError, match=r"model runs:/0{32}/model: cannot be read"):
        predict_model("0" * 32, out, settings=corpus.settings)
    with pytest.raises(NewslabError, match=r"not in the corpus: nope"):
        predict_model(corpus.events_run, out, ids=["nope"], settings=corpus.settings)
    assert not out.exists()


def test_an_interrupted_prediction_leaves_no_file(pilot: PilotModels, tmp_path: Path) -> None:
    loaded = load(pilot.events_run)

    def batches():  # type: ignore[no-untyped-def]
        yield pd.DataFrame({"id": ["1"], "text": ["Troops attacked."]})
        raise KeyboardInterrupt

    out = tmp_path / "p.parquet"
    with pytest.raises(KeyboardInterrupt):
        predict(loaded, predict_sources.Source(batches(), None, "rows"), out)
    assert list(tmp_path.iterdir()) == []


def test_the_command_prints_its_throughput(corpus: PilotModels, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    result = run_cli("predict", corpus.events_run, "--out", str(out), "--source", "test")
    assert result.returncode == 0, result.stderr
    assert "items/s" in result.stdout and str(out) in result.stdout.replace("\n", "")
    assert {json.loads(line)["source"] for line in out.read_text().splitlines()} == {"test"}


def test_several_workers_write_the_same_table_in_order(pilot: PilotModels, tmp_path: Path) -> None:
    table = tmp_path / "items.parquet"
    texts = [f"Troops shelled the city {i} times; leaders met in Geneva to talk." for i in range(2500)]
    pd.DataFrame({"id": [f"i{i}" for i in range(2500)], "text": texts}).to_parquet(table)
    one, two = tmp_path / "one.parquet", tmp_path / "two.parquet"
    predict_model(pilot.events_run, one, table=table, batch_size=300, settings=pilot.settings, workers=1)
    report = predict_model(
        pilot.events_run, two, table=table, batch_size=300, settings=pilot.settings, workers=2
    )
    assert report.items == report.articles == 2500
    pd.testing.assert_frame_equal(pd.read_parquet(one), pd.read_parquet(two))
    assert list(pd.read_parquet(two)["id"][:3]) == ["i0", "i1", "i2"]
