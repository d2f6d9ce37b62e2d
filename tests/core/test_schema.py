from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.errors import NewslabError
from core.schema import DEFAULT_SCHEMA_PATH, load_schema
from core.settings import PROJECT_DIR
from tests.conftest import run_cli


def test_default_schema_has_the_tasks_and_plover_ontology() -> None:
    schema = load_schema()
    stance = schema.task("stance")
    assert stance.codes == ["favor", "against", "neutral", "unrelated"]
    assert not stance.multi_label and stance.needs_target
    events = schema.task("event_type")
    assert events.multi_label and events.ontology == "PLOVER"
    assert len(events.codes) == 18
    quads = {label.group for label in events.labels}
    assert quads == {
        "verbal_cooperation",
        "material_cooperation",
        "verbal_conflict",
        "material_conflict",
    }
    assert set(quads) <= set(schema.task("event_quad").codes)
    assert all(label.definition for label in events.labels)
    assert {"russia", "iran", "ukraine"} <= {t.code for t in schema.targets}


def test_fingerprint_changes_with_content(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_SCHEMA_PATH.read_text())
    data["tasks"]["stance"]["labels"][0]["definition"] = "changed"
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_schema(path).fingerprint != load_schema().fingerprint


def test_guidelines_do_not_change_the_fingerprint(tmp_path: Path) -> None:
    """They guide annotators and are not part of the label set: datasets keep their fingerprints."""
    path = _write(tmp_path, lambda d: d["tasks"]["stance"].update(guidelines="annotation/guidelines.md"))
    schema = load_schema(path)
    assert schema.guidelines_path("stance") == PROJECT_DIR / "annotation" / "guidelines.md"
    assert schema.fingerprint == load_schema().fingerprint


def _write(tmp_path: Path, mutate) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(DEFAULT_SCHEMA_PATH.read_text())
    mutate(data)
    path = tmp_path / "labels.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["tasks"]["stance"].update(colour="red"), "tasks.stance.colour"),
        (lambda d: d["tasks"]["stance"].update(kind="ranking"), "tasks.stance.kind"),
        (
            lambda d: d["tasks"]["stance"]["labels"][1].update(code="favor"),
            "duplicate label code 'favor'",
        ),
        (
            lambda d: d["tasks"]["stance"]["labels"][1].update(hotkey="1"),
            "duplicate label hotkey '1'",
        ),
        (
            lambda d: d["tasks"]["event_type"]["labels"][0].update(group="nope"),
            "tasks.event_type.labels.0.group",
        ),
        (
            lambda d: d["tasks"]["stance"]["labels"][0].pop("definition"),
            "tasks.stance.labels.0.definition",
        ),
        (
            lambda d: d["tasks"]["stance"]["labels"][0].update(code="has space"),
            "tasks.stance.labels.0.code",
        ),
        (lambda d: d["targets"].append(d["targets"][0]), "duplicate target codes: russia"),
        (
            lambda d: d["tasks"]["stance"]["labels"][1].update(name="Favor"),
            "duplicate label name 'Favor'",
        ),
        (lambda d: d["tasks"].update(title=d["tasks"]["stance"]), "tasks.title: 'title' is a name"),
        (
            lambda d: d["tasks"].update(target_name=d["tasks"]["stance"]),
            "reserved: agreement, al_round, al_score",
        ),
        (lambda d: d.update(targets=[]), "tasks.stance.needs_target: the task is annotated toward targets"),
        (lambda d: d.update(guidelines="nope.md"), "guidelines: guidelines file 'nope.md' not found"),
    ],
)
def test_bad_schema_names_the_file_and_key(tmp_path: Path, mutate, expected: str) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, mutate)
    with pytest.raises(NewslabError) as err:
        load_schema(path)
    assert str(path) in err.value.message
    assert expected in err.value.message


def test_a_repeated_key_is_refused_with_its_path_and_lines(tmp_path: Path) -> None:
    """PyYAML keeps the last of two equal keys: a second `stance:` would silently replace the first."""
    text = DEFAULT_SCHEMA_PATH.read_text()
    path = tmp_path / "labels.yaml"
    path.write_text(text.replace("\ntasks:\n", "\ntasks:\n  stance:\n    kind: multi_label\n", 1))
    with pytest.raises(NewslabError) as err:
        load_schema(path)
    first = text.splitlines().index("tasks:") + 2
    assert f"{path}: line" in err.value.message
    assert f"duplicate key tasks.stance (first on line {first})" in err.value.message
    path.write_text("version: 1\nversion: 2\n")
    with pytest.raises(NewslabError, match=r"line 2: duplicate key version \(first on line 1\)"):
        load_schema(path)


def test_a_merge_key_may_be_overridden(tmp_path: Path) -> None:
    """YAML merges (`<<: *anchor`) are meant to be overridden: only a key written twice is refused."""
    from core.yamlio import read_yaml

    path = tmp_path / "m.yaml"
    path.write_text("base: &b {kind: single_label, annotate: true}\nother:\n  <<: *b\n  annotate: false\n")
    assert read_yaml(path)["other"] == {"kind": "single_label", "annotate": False}


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\ntasks:\n  stance: [unclosed\n")
    with pytest.raises(NewslabError) as err:
        load_schema(path)
    assert f"{path}: line" in err.value.message


def test_missing_and_empty_schema(tmp_path: Path) -> None:
    with pytest.raises(NewslabError, match="file not found"):
        load_schema(tmp_path / "nope.yaml")
    (tmp_path / "empty.yaml").write_text("")
    with pytest.raises(NewslabError, match="empty"):
        load_schema(tmp_path / "empty.yaml")


def test_unknown_task_lists_the_known_ones() -> None:
    with pytest.raises(NewslabError, match="stance"):
        load_schema().task("sentiment")


def test_cli_bad_schema_is_a_short_error_without_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: d["tasks"]["stance"].update(colour="red"))
    result = run_cli("schema", str(path))
    assert result.returncode == 1
    assert str(path) in result.stderr and "tasks.stance.colour" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_schema_prints_tasks() -> None:
    result = run_cli("schema")
    assert result.returncode == 0, result.stderr
    assert "event_type (multi_label)" in result.stdout
