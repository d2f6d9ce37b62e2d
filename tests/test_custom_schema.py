"""A schema of one's own, end to end: German articles, a targeted single-label `sentiment` task and a
multi-label `topic` task, through a real Label Studio (setup, push, submit, pull), the dataset build,
training, evaluation (F_avg and the FNC score found through the schema's flags) and the report.

Nothing here names stance or event_type: a stage that still assumes them fails this test.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from core.settings import Settings, get_settings

pytestmark = [pytest.mark.slow, pytest.mark.server]

ANN1, ANN2 = "anna@example.de", "bernd@example.de"

SCHEMA = """\
version: 1
guidelines: leitfaden.md          # every task without its own
tasks:
  sentiment:
    kind: single_label
    needs_target: true
    description: Wie schreibt der Artikel über das Ziel?
    labels:
      - {code: positiv, name: Positiv, hotkey: "1", polar: true, definition: "Der Artikel lobt das Ziel."}
      - {code: negativ, name: Negativ, hotkey: "2", polar: true, definition: "Der Artikel tadelt das Ziel."}
      - {code: gemischt, name: Gemischt, hotkey: "3", definition: "Lob und Kritik halten sich die Waage."}
      - {code: off_topic, name: Nicht zum Thema, hotkey: "4", related: false,
         definition: "Das Ziel wird nur am Rande erwähnt."}
  topic:
    kind: multi_label
    guidelines: themen.md
    description: Alle Themen des Artikels.
    labels:
      - {code: wirtschaft, name: Wirtschaft, hotkey: "q", definition: "Geld, Preise, Unternehmen."}
      - {code: politik, name: Politik, hotkey: "w", definition: "Parlament, Parteien, Gesetze."}
      - {code: sport, name: Sport, hotkey: "e", definition: "Spiele, Vereine, Wettkämpfe."}
      - {code: kultur, name: Kultur, hotkey: "r", definition: "Theater, Museen, Musik."}
targets:
  - {code: bahn, name: Deutsche Bahn, aliases: {de: [Bahn, Deutsche Bahn, DB], en: [railway]}}
  - {code: regierung, name: Bundesregierung, aliases: {de: [Bundesregierung, Regierung], en: [government]}}
"""

MOOD = {
    "positiv": [
        "Die {t} hat ihre Versprechen gehalten und bekommt dafür viel Lob von {n} Bürgern.",
        "Fahrgäste und Verbände loben die {t} für die hervorragende Arbeit der letzten {n} Wochen.",
        "Die Zufriedenheit mit der {t} ist um {n} Prozent gestiegen, ein großer Erfolg.",
    ],
    "negativ": [
        "Die {t} steht wegen ihrer Fehler seit {n} Tagen heftig in der Kritik.",
        "Viele Menschen sind wütend und enttäuscht von der {t}, sagen {n} Befragte.",
        "Das Chaos bei der {t} ist ein Skandal, schimpfen Kritiker in {n} Briefen.",
    ],
}
TOPIC = {
    "wirtschaft": [
        "Die Kosten stiegen im Quartal um {n} Millionen Euro.",
        "Unternehmen planen Investitionen von {n} Milliarden Euro in neue Anlagen.",
        "Die Preise an der Börse fielen am Dienstag um {n} Punkte.",
    ],
    "politik": [
        "Im Bundestag stimmten {n} Abgeordnete für das neue Gesetz.",
        "Die Parteien streiten seit {n} Monaten über die Reform des Wahlrechts.",
        "Der Ausschuss des Parlaments tagte {n} Stunden lang.",
    ],
    "sport": [
        "Die Mannschaft gewann das Spiel im Stadion mit {n} Toren Vorsprung.",
        "Der Verein verpflichtete einen Stürmer für {n} Millionen Euro Ablöse.",
        "Beim Marathon liefen {n} Sportlerinnen und Sportler durch die Stadt.",
    ],
    "kultur": [
        "Das Theater zeigte ein neues Stück vor {n} Zuschauern.",
        "Das Museum eröffnete eine Ausstellung mit {n} Gemälden.",
        "Das Orchester spielte ein Konzert mit Werken aus {n} Jahrhunderten.",
    ],
}
CITIES = ["Berlin", "Hamburg", "München", "Köln", "Leipzig", "Dresden", "Bremen", "Mainz"]
TARGETS = {"bahn": "Bahn", "regierung": "Regierung"}


def _article(k: int, rng: random.Random) -> tuple[dict, str, str, list[str]]:
    """A German article, its target, its sentiment toward it and its topics (what annotators choose)."""
    target = ("bahn", "regierung")[k % 2]
    mood = ("positiv", "negativ", "gemischt", "off_topic")[(k // 2) % 4]
    topics = sorted(rng.sample(["wirtschaft", "politik", "kultur"], rng.choice([1, 2])))
    if mood == "off_topic":
        topics = sorted({"sport", *topics[:1]})
    t = TARGETS[target]

    def say(template: str) -> str:
        return template.format(t=t, n=rng.randint(2, 9999))

    sentences = [f"{rng.choice(CITIES)}, den {k % 28 + 1}. März. Bericht Nummer {k} unserer Redaktion."]
    for topic in topics:
        sentences += [say(s) for s in rng.sample(TOPIC[topic], 3)]
    if mood == "off_topic":
        sentences.append(say("Am Rande erwähnte ein Sprecher nach {n} Minuten auch die {t}."))
    else:
        for side in ("positiv", "negativ") if mood == "gemischt" else (mood,):
            sentences += [say(s) for s in rng.sample(MOOD[side], 2 if mood == "gemischt" else 3)]
    rng.shuffle(sentences)
    record = {
        "title": f"Meldung {k} aus {rng.choice(CITIES)}",
        "text": " ".join(sentences),
        "source": "testzeitung",
        "date": f"2026-03-{k % 28 + 1:02d}",
        "license": "CC BY 4.0",
        "attribution": f"Redaktion {k % 3}",
        "url": f"https://example.de/artikel/{k}",
    }
    return record, target, mood, topics


@pytest.fixture()
def custom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Data, schema and configs of their own: a temp data dir (MLflow SQLite store in it), the German
    schema with its guidelines, and a configs dir with the dataset and two experiments."""
    schema_dir, configs = tmp_path / "schema", tmp_path / "configs"
    (configs / "datasets").mkdir(parents=True)
    (configs / "experiments").mkdir()
    schema_dir.mkdir()
    (schema_dir / "labels.yaml").write_text(SCHEMA, encoding="utf-8")
    (schema_dir / "leitfaden.md").write_text("# Leitfaden\n\nLies den ganzen Artikel.\n", encoding="utf-8")
    (schema_dir / "themen.md").write_text("# Themen\n\nWähle alle Themen.\n", encoding="utf-8")
    dataset = {
        "name": "deutsch",
        "description": "German test articles, annotated in Label Studio.",
        "configs": {"meinung": "sentiment", "themen": "topic"},
        "gold": {"method": "majority", "primary": ANN1},
        "extra_metrics": ["f_avg", "fnc_score"],
        "splits": {"fractions": {"train": 0.7, "test": 0.3}, "seed": 1},
    }
    (configs / "datasets" / "deutsch.yaml").write_text(yaml.safe_dump(dataset), encoding="utf-8")
    experiments = {
        "de_sentiment": {
            "name": "de-sentiment-pair-lr",
            "task": "sentiment",
            "dataset": "deutsch/meinung",
            "model": {"type": "tfidf_pair_lr", "params": {"C": 4.0, "tune_bias": "f_avg"}},
        },
        "de_topic": {
            "name": "de-topic-lr",
            "task": "topic",
            "dataset": "deutsch/themen",
            "model": {"type": "tfidf_lr", "params": {"C": 4.0}},
        },
    }
    for name, config in experiments.items():
        (configs / "experiments" / f"{name}.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    monkeypatch.setenv("NEWSLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSLAB_SCHEMA_PATH", str(schema_dir / "labels.yaml"))
    monkeypatch.setenv("NEWSLAB_CONFIGS_DIR", str(configs))
    monkeypatch.delenv("NEWSLAB_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_a_custom_schema_from_label_studio_to_the_report(ls, custom: Settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import mlflow

    from annotation.projects import find_projects, setup
    from annotation.pull import pull
    from annotation.push import make_tasks, push, select_articles
    from annotation.submit import LabelRecord, submit
    from annotation.users import annotator_connection, ensure_annotators
    from core.schema import load_schema
    from corpus.ingest import ingest
    from corpus.store import Store
    from dataset.build import build, load
    from eval.evaluate import evaluate_run
    from eval.report import build_report
    from training.train import train

    ls_settings, conn = ls
    schema = load_schema(custom.schema_path)
    assert set(schema.tasks) == {"sentiment", "topic"}

    # the corpus: 40 German articles
    rng = random.Random(7)
    generated = [_article(k, rng) for k in range(40)]
    source = tmp_path / "artikel.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r, *_ in generated))
    assert ingest([source], root=custom.corpus_dir).added == 40
    store = Store(custom.corpus_dir)
    ids_by_url = {r["url"]: r["id"] for r in store.table(["id", "url", "lang"]).to_pylist()}
    assert set(store.table(["lang"]).column("lang").to_pylist()) == {"de"}
    truth = {ids_by_url[r["url"]]: (target, mood, topics) for r, target, mood, topics in generated}

    # Label Studio: projects from the schema, with each task's guidelines as instructions
    ensure_annotators(conn, [ANN1, ANN2], ls_settings)
    setup(conn, schema, [ANN1, ANN2], settings=ls_settings)
    projects = [p for p in find_projects(conn, schema, ls_settings) if p.annotator]
    assert {(p.task, p.annotator) for p in projects} == {(t, a) for t in schema.tasks for a in (ANN1, ANN2)}
    client = conn.client()
    for p in projects:
        shown = client.projects.get(id=p.id).expert_instruction or ""
        assert ("<h1>Themen</h1>" if p.task == "topic" else "<h1>Leitfaden</h1>") in shown

    articles = select_articles(store, sorted(truth), None, None)
    for p in projects:
        pushed = push(conn, p, make_tasks(schema, p.task, articles))
        # one sentiment task per article and the one target it names; none for an unnamed target
        assert pushed.added == 40

    # annotators label away from the screen and submit; Bernd does half, and disagrees twice
    for p in projects:
        records = []
        for n, (article, (target, mood, topics)) in enumerate(sorted(truth.items())):
            if p.annotator == ANN2 and n % 2:
                continue
            if p.task == "sentiment":
                disagree = p.annotator == ANN2 and n in (0, 4)
                label = ("positiv" if mood == "gemischt" else "gemischt") if disagree else mood
                records.append(LabelRecord(article, target, (label,)))
            else:
                records.append(LabelRecord(article, "", tuple(topics)))
        as_annotator = annotator_connection(conn, p.annotator, ls_settings)
        report = submit(as_annotator, p, p.task, records)
        assert (report.added, report.missing) == (len(records), [])

    pulled = pull(conn, schema, projects, custom)
    assert {task: len(frame) for task, (frame, _) in pulled.items()} == {"sentiment": 60, "topic": 60}
    assert (custom.annotations_dir / "sentiment.parquet").is_file()

    # the dataset: two configurations named in the config, labels from the schema
    built = build("deutsch")
    assert set(built.configs) == {"meinung", "themen"}
    meinung, meta = load(built.path / "meinung")
    assert (
        meta["task"] == "sentiment"
        and meinung["train"].features["label"].names == schema.task("sentiment").codes
    )
    themen, _ = load(built.path / "themen")
    assert themen["test"].features["labels"].feature.names == ["wirtschaft", "politik", "sport", "kultur"]
    assert {len(meinung[s]) for s in ("train", "test")} != {0}
    assert set(meinung["train"]["target"]) == {"bahn", "regierung"}
    rows = [r for split in meinung.values() for r in split]
    assert {r["n_annotators"] for r in rows} == {1, 2} and min(r["agreement"] for r in rows) < 1.0
    card = (built.path / "README.md").read_text(encoding="utf-8")
    assert "alpha_nominal" in card and "alpha_masi" in card and "language:\n- de" in card

    # training and evaluation, tracked in the temp data dir's SQLite store
    assert custom.resolved_tracking_uri.startswith("sqlite:///" + str(custom.data_dir))
    scores = {}
    runs = {}
    for experiment in ("de_sentiment", "de_topic"):
        result = train(experiment)
        runs[experiment] = result.run_id
        scores[experiment] = evaluate_run(result.run_id, n_boot=50)

    sentiment = scores["de_sentiment"]
    for metric in ("macro_f1", "accuracy", "f_avg", "fnc_score"):
        assert 0.0 <= sentiment[metric] <= 1.0, metric
    assert sentiment["f_avg"] > 0.5 and sentiment["fnc_score"] > 0.5  # the texts carry their labels
    assert {f"f1_{c}" for c in ("positiv", "negativ", "gemischt", "off_topic")} <= set(sentiment)
    topic = scores["de_topic"]
    assert 0.0 <= topic["macro_f1"] <= 1.0 and "f1_wirtschaft" in topic
    assert "f_avg" not in topic and "fnc_score" not in topic  # single-label metrics skip the multi-label task
    logged = mlflow.MlflowClient().get_run(runs["de_sentiment"]).data.metrics
    assert {"test_f_avg", "test_fnc_score", "test_f_avg_ci_low", "test_fnc_score_ci_high"} <= set(logged)
    experiments = {mlflow.get_experiment(mlflow.get_run(r).info.experiment_id).name for r in runs.values()}
    assert experiments == {"sentiment-deutsch", "topic-deutsch"}

    # the report: both runs, the custom labels, the schema-flagged metrics
    files = build_report(list(runs.values()), out=tmp_path / "report", log=False)
    html = files.html.read_text(encoding="utf-8")
    markdown = files.markdown.read_text(encoding="utf-8")
    for run_id in runs.values():
        assert run_id in html and run_id in markdown
    row = next(line for line in markdown.splitlines() if "**de-sentiment-pair-lr**" in line)
    assert re.search(r"\| 0\.\d{3} \[[^]]*\] \| \d+\.\d\d % \[", row)  # F avg, then the FNC score
    assert "F avg" in markdown and "FNC score" in markdown and "subset accuracy" in markdown
    # the error analysis speaks the custom labels; no default-schema label leaks in
    assert any(f"| {code} |" in markdown for code in ("positiv", "negativ", "gemischt", "off_topic"))
    assert not any(code in markdown for code in ("favor", "against", "unrelated", "ASSAULT"))
    assert html.count('src="data:image/png;base64,') == 2 * 3  # confusion, reliability, per-class F1
