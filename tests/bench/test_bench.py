"""Benchmarks that cannot rot: every script in bench/ runs here at a tiny size and must print its figures."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from core.settings import PROJECT_DIR, Settings
from tests.conftest import PilotModels

BENCH = PROJECT_DIR / "bench"
#: the scripts smoke-tested below; a new script fails test_every_script_has_a_smoke_test until added
SMOKED = {
    "active_learning.py",
    "annotate_roundtrip.py",
    "corpus_ingest.py",
    "dataset_build.py",
    "faults.py",
    "load.py",
    "predict.py",
    "train_models.py",
}


def bench(script: str, *args: str, tmp_path: Path, env: dict[str, str] | None = None) -> str:
    """Run ``bench/<script>`` in a subprocess with its data under ``tmp_path``; its stdout."""
    full_env = {
        **os.environ,
        # the packages from this checkout, however the virtualenv was installed
        "PYTHONPATH": os.pathsep.join([str(PROJECT_DIR), os.environ.get("PYTHONPATH", "")]),
        "NEWSLAB_DATA_DIR": str(tmp_path / "data"),
        **(env or {}),
    }
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=PROJECT_DIR,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_every_script_has_a_smoke_test() -> None:
    assert {p.name for p in BENCH.glob("*.py") if not p.name.startswith("_")} == SMOKED


@pytest.mark.slow
def test_corpus_ingest(tmp_path: Path, shared: Path) -> None:
    out = bench("corpus_ingest.py", "--sizes", "200", "--workdir", str(tmp_path / "work"), tmp_path=tmp_path)
    assert "200 articles:" in out and "articles/s" in out and "peak RSS" in out


@pytest.mark.slow
def test_dataset_build(tmp_path: Path) -> None:
    args = ("--sizes", "200", "--bootstrap", "2", "--workdir", str(tmp_path / "work"))
    out = bench("dataset_build.py", *args, tmp_path=tmp_path)
    assert "200 rows:" in out and "rows/s" in out and "alpha (MASI)" in out


@pytest.mark.slow
def test_train_models(tmp_path: Path, shared: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_train_models", BENCH / "train_models.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    families = [f for f in module.DATASETS["cameo_pentacode"] if f not in module.OPTIONAL]

    out = bench("train_models.py", "--only", "cameo_pentacode", "--limit", "30", tmp_path=tmp_path)
    lines = [line for line in out.splitlines() if line.startswith("cameo_pentacode")]
    assert [f for f in families if any(f in line for line in lines)] == families
    assert all("macro-F1" in line for line in lines)


@pytest.mark.slow
def test_active_learning(tmp_path: Path, shared: Path) -> None:
    args = ("--only", "cameo_pentacode", "--limit", "60", "--seed-size", "10", "--batch", "10")
    out = bench(
        "active_learning.py", *args, "--rounds", "2", "--seeds", "1", "--boot", "20", tmp_path=tmp_path
    )
    assert "test macro_f1 by number of labels" in out and "labels saved" in out
    assert all(s in out for s in ("random", "least_confidence", "entropy", "breaking_ties"))
    assert "audit: 6 of 60 training labels flipped" in out and "recall" in out


@pytest.mark.slow
@pytest.mark.server
def test_annotate_roundtrip(tmp_path: Path, ls_settings: Settings) -> None:
    """On the session's Label Studio, in projects of its own prefix."""
    from annotation import server

    env = {
        "NEWSLAB_LS_URL": server.status(ls_settings).url,
        "LABEL_STUDIO_API_KEY": server.credentials(ls_settings).token,
        "NEWSLAB_LS_PROJECT_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
    }
    out = bench("annotate_roundtrip.py", "--tasks", "20", "--batch-size", "8", tmp_path=tmp_path, env=env)
    assert "20 tasks" in out and "newslab push again" in out and "newslab pull" in out


def test_load(tmp_path: Path, ls_settings: Settings) -> None:
    """Two annotators on the session's Label Studio (the PostgreSQL stack is tests/newslab/test_team.py's)."""
    from annotation import server

    env = {"LABEL_STUDIO_API_KEY": server.credentials(ls_settings).token}
    url = server.status(ls_settings).url
    args = (
        "--annotators",
        "2",
        "--per-annotator",
        "3",
        "--tasks",
        "6",
        "--pace",
        "0.05",
        "--stores",
        "sqlite",
        "--no-sweep",  # two sweep workers take minutes (pilot build, trials, final training)
    )
    out = bench("load.py", *args, "--url", url, tmp_path=tmp_path, env=env)
    assert "2 annotators: 6 annotations in" in out and "lost 0, duplicated 0" in out


@pytest.mark.slow
def test_faults(tmp_path: Path, shared: Path) -> None:
    """Three cases of the audit, end to end: the table, and "no" in both judged columns."""
    args = ("--no-servers", "--only", "record over 1M", "unknown label", "Ctrl-C while")
    out = bench("faults.py", *args, "--workdir", str(tmp_path / "work"), tmp_path=tmp_path)
    rows = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 3, out
    assert all(line.split("|")[4:6] == [" no ", " no "] for line in rows), out
    assert "3 cases; data lost: 0; traceback shown: 0" in out


@pytest.mark.slow
def test_predict(tmp_path: Path, pilot_models: PilotModels) -> None:
    # the session's pilot store, copied: the bench's pilot build then ingests nothing
    shutil.copytree(pilot_models.settings.corpus_dir, tmp_path / "data" / "corpus")
    args = (
        "--sizes",
        "200",
        "400",
        "--tasks",
        "0",  # the backend's latency is tests/newslab/test_backend.py's; this is the bench's smoke
        "--families",
        "tfidf_lr",
        "--workdir",
        str(tmp_path / "w"),
    )
    out = bench("predict.py", *args, tmp_path=tmp_path)
    assert "tfidf_lr:" in out and "items/s" in out and "peak RSS ratio 400 / 200" in out
