"""The main job without the mirror: what can be had runs, the rest is named, nothing ends in a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core import download
from core.errors import Unavailable
from core.settings import Settings, get_settings
from newslab.pipeline import run
from tests.conftest import free_port, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture()
def offline(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An empty mirror and no network: every upstream URL points at a closed port on 127.0.0.1."""
    (tmp_path / "mirror").mkdir()
    env = {
        "NEWSLAB_DATA_DIR": str(settings.data_dir),
        "NEWSLAB_MIRROR_DIR": str(tmp_path / "mirror"),
        "NEWSLAB_UPSTREAM_BASE_URL": f"http://127.0.0.1:{free_port()}",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(download, "BACKOFF_S", 0.01)
    monkeypatch.setattr(download, "_unreachable", {})
    get_settings.cache_clear()
    return env


def test_no_mirror_no_network_ends_with_a_message_naming_the_assets(
    offline: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("experiments: [cameo_tfidf_lr, pilot_events_lr]\n")
    with pytest.raises(Unavailable) as err:
        run(config, limit=30)
    for asset in ("cameo_pentacode", "seed", "wikinews_en", "globalvoices_en"):
        assert asset in err.value.message
    assert "not run for want of data: cameo_tfidf_lr, pilot_events_lr" in err.value.message
    assert "run: none" in err.value.message

    result = run_cli("run", "--config", str(config), "--limit", "30", env=offline)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "could not get here:" in result.stderr and "127.0.0.1" in result.stderr
    assert "seed: " in result.stderr and "run: none" in result.stderr


def test_experiments_whose_data_are_here_still_train(
    offline: dict[str, str], shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mirror holds CAMEO only: the CAMEO experiment trains, FNC-1's is skipped and named."""
    folder = tmp_path / "mirror" / "benchmarks" / "conflibert_cameo_pentacode"
    shutil.copytree(shared / "benchmarks" / "conflibert_cameo_pentacode", folder)
    monkeypatch.setattr("newslab.pipeline.code_version", lambda: "pinned")
    config = tmp_path / "run.yaml"
    config.write_text("experiments: [cameo_tfidf_lr, fnc1_tfidf_lr]\n")
    outcome = run(config, limit=30)
    assert len(outcome.trained) == 1
    assert outcome.skipped == ["fnc1_tfidf_lr"] and outcome.ran == ["cameo_tfidf_lr"]
    assert list(outcome.unavailable) == ["fnc1"] and "download failed" in outcome.unavailable["fnc1"]
    notes = "\n".join(outcome.notes)
    assert "not run for want of data: fnc1_tfidf_lr" in notes and "run: cameo_tfidf_lr" in notes
