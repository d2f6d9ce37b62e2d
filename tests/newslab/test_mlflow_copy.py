"""The MLflow migration on real stores: the pilot's store (two trained, evaluated and registered
runs) copied into a fresh SQLite store, cut short once and resumed, then copied again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.errors import NewslabError
from newslab.team.mlflow_copy import (
    COMPLETE,
    MIGRATED,
    MIGRATED_FROM,
    CopyReport,
    copy_tracking,
    fingerprint,
)
from tests.conftest import PilotModels, free_port

TEXTS = ["troops attacked the city", "a deal was signed", "talks between the two sides"]
#: what every pilot model reads (a stance model also needs the target; others ignore it)
INPUT = {"text": TEXTS, "target": ["US"] * len(TEXTS)}


class _Cut(Exception):
    """Stands for a copy killed after its first run."""


@dataclass
class Migration:
    source: str
    dest: str
    interrupted_at: str  # what on_item heard before the cut
    resumed: CopyReport
    again: CopyReport
    repaired: CopyReport  # after a copied run was deleted in the destination


def _client(uri: str):  # type: ignore[no-untyped-def]
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _runs(uri: str) -> list:  # type: ignore[type-arg]
    client = _client(uri)
    ids = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(ids, max_results=1000)


def _cut_short(source: str, dest: str) -> str:
    """A copy killed after its first run, that run then made to look half-written (its
    ``complete`` mark gone, as when the process died between its artifacts and the mark)."""

    def stop(text: str) -> None:
        raise _Cut(text)

    with pytest.raises(_Cut) as cut:
        copy_tracking(source, dest, on_item=stop)
    (copied,) = _runs(dest)
    assert copied.data.tags[MIGRATED] == COMPLETE
    _client(dest).delete_tag(copied.info.run_id, MIGRATED)
    return str(cut.value)


@pytest.fixture(scope="module")
def migration(pilot_models: PilotModels, tmp_path_factory: pytest.TempPathFactory) -> Migration:
    source = pilot_models.settings.resolved_tracking_uri  # only read, never written
    dest = f"sqlite:///{tmp_path_factory.mktemp('team') / 'mlflow.db'}"
    interrupted_at = _cut_short(source, dest)
    resumed = copy_tracking(source, dest)
    again = copy_tracking(source, dest)
    # a copied run that a registered version points at, deleted on the destination since
    versioned = {v.run_id for v in _client(source).search_model_versions()}
    (lost,) = [r for r in _runs(dest) if r.data.tags[MIGRATED_FROM] in sorted(versioned)[:1]]
    _client(dest).delete_run(lost.info.run_id)
    repaired = copy_tracking(source, dest)
    return Migration(source, dest, interrupted_at, resumed, again, repaired)


@pytest.mark.slow
def test_the_copy_loses_nothing(migration: Migration) -> None:
    report = migration.resumed
    assert report.lossless, (report.source, report.destination)
    assert report.source == report.destination
    for count in (
        "runs",
        "params",
        "metric_points",
        "logged_models",
        "registered_models",
        "versions",
        "aliases",
    ):
        assert getattr(report.source, count) > 0, count
    assert fingerprint(migration.dest).sha256 == fingerprint(migration.source).sha256


@pytest.mark.slow
def test_a_copy_cut_short_is_finished_without_duplicates(migration: Migration) -> None:
    assert migration.interrupted_at.endswith(": copied")
    report = migration.resumed
    # the half-written run was deleted and copied again, the others copied for the first time
    assert (report.runs_copied, report.runs_redone, report.runs_skipped) == (report.source.runs, 1, 0)
    copies = _runs(migration.dest)
    origins = [r.data.tags[MIGRATED_FROM] for r in copies]
    assert sorted(origins) == sorted(r.info.run_id for r in _runs(migration.source))
    assert all(r.data.tags[MIGRATED] == COMPLETE for r in copies)


@pytest.mark.slow
def test_a_second_copy_copies_nothing(migration: Migration) -> None:
    again = migration.again
    assert (again.runs_copied, again.models_copied, again.versions_copied) == (0, 0, 0)
    assert again.runs_skipped == again.source.runs and again.lossless
    assert len(_runs(migration.dest)) == again.source.runs


@pytest.mark.slow
def test_a_copied_run_deleted_since_is_copied_again_with_its_versions(migration: Migration) -> None:
    repaired = migration.repaired
    skipped = repaired.source.runs - 1
    assert (repaired.runs_copied, repaired.runs_skipped, repaired.models_copied) == (1, skipped, 1)
    # its registered version pointed at the deleted copy: the model is registered anew
    assert repaired.registered_models_rebuilt == 1 and repaired.versions_copied >= 1
    assert repaired.lossless and len(_runs(migration.dest)) == repaired.source.runs


@pytest.mark.slow
def test_copied_runs_point_at_their_copied_models(migration: Migration) -> None:
    from core.tracking import usable

    client, source = _client(migration.dest), _client(migration.source)
    copies = _runs(migration.dest)
    for run in copies:
        original = source.get_run(run.data.tags[MIGRATED_FROM])
        # newslab ranks and serves a copy exactly when it would the original (a learning round's
        # run logs no model)
        assert usable(client, run) == usable(source, original), run.info.run_name
        if usable(client, run):
            (output,) = run.outputs.model_outputs
            assert client.get_logged_model(output.model_id).source_run_id == run.info.run_id
    assert any(usable(client, run) for run in copies)


PREDICT = """
import json, sys, mlflow
out = {}
aliased = json.load(sys.stdin)
for uri in sys.argv[2:]:
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    models = {name: mlflow.pyfunc.load_model(f"models:/{name}@{alias}") for name, alias in aliased}
    out[uri] = {name: m.predict(json.loads(sys.argv[1])).to_dict("list") for name, m in models.items()}
print(json.dumps(out))
"""


@pytest.mark.slow
def test_the_copied_champions_predict_as_the_originals(migration: Migration) -> None:
    client = _client(migration.source)
    aliased = [(m.name, alias) for m in client.search_registered_models() for alias in m.aliases]
    assert aliased and any(alias == "champion" for _, alias in aliased)
    # a process of its own: loading by models:/ reads MLflow's global tracking URI
    out = subprocess.run(
        [sys.executable, "-c", PREDICT, json.dumps(INPUT), migration.source, migration.dest],
        input=json.dumps(aliased),
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    original, copied = got[migration.source], got[migration.dest]
    assert set(original) == {name for name, _ in aliased}
    assert copied == original
    assert all(len(p["label"]) == len(TEXTS) for p in original.values())


def test_an_unreachable_server_is_said_without_its_password(tmp_path: Path) -> None:
    server = f"http://team:s3cr3t-pw@127.0.0.1:{free_port()}"
    with pytest.raises(NewslabError, match=r"source MLflow store .*no database file"):
        copy_tracking(f"sqlite:///{tmp_path / 'nowhere.db'}", server)
    source = f"sqlite:///{tmp_path / 'mlflow.db'}"
    _client(source).search_experiments()  # an empty store
    with pytest.raises(NewslabError, match="destination MLflow store") as caught:
        copy_tracking(source, server)
    assert "s3cr3t-pw" not in str(caught.value) and "team:***@" in str(caught.value)
