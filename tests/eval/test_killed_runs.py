"""Runs cut short: a training SIGKILLed mid-logging is reaped (FAILED) by the next command, and
neither `eval`, `eval results` nor the champion ever take a run that did not finish."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core import tracking
from core.assets import fetch
from core.errors import NewslabError
from core.settings import PROJECT_DIR, Settings
from dataset.build import build
from eval.evaluate import evaluate_run
from eval.results import latest_runs
from training.train import train


def _running_run(pid: int, timeout: float = 240) -> str:
    """The id of the run the training process ``pid`` has started (polled in the store)."""
    import mlflow

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = mlflow.search_runs(
            search_all_experiments=True,
            filter_string=f"tags.`{tracking.PID_TAG}` = '{pid}'",
            output_format="list",
        )
        if runs:
            return runs[0].info.run_id
        time.sleep(1)
    raise AssertionError(f"process {pid} started no run within {timeout} s")


def _train_in_background(config: Path, settings: Settings) -> subprocess.Popen[str]:
    env = {**os.environ, "NEWSLAB_DATA_DIR": str(settings.data_dir), "NEWSLAB_TEST_PAUSE_AFTER_FIT": "120"}
    return subprocess.Popen(
        [sys.executable, "-m", "newslab.cli", "train", str(config), "--no-evaluate"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_a_training_killed_mid_run_is_failed_and_never_a_result(
    settings: Settings, shared: Path, tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    fetch(["conref_stance_ita"])
    build("conref_ita")
    config = tmp_path / "lr.yaml"
    config.write_text("name: lr\ntask: stance\ndataset: conref_ita\nmodel: {type: tfidf_lr}\n")
    done = train(config).run_id
    evaluate_run(done, n_boot=0)
    client = MlflowClient()

    proc = _train_in_background(config, settings)
    killed = _running_run(proc.pid)  # its predictions are logged; its model is not
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert client.get_run(killed).info.status == "RUNNING"

    with pytest.raises(NewslabError, match=rf"run {killed} is FAILED, not FINISHED"):
        evaluate_run(killed, n_boot=0)  # the next command reaps it first
    run = client.get_run(killed)
    assert run.info.status == "FAILED" and tracking.REAPED_TAG in run.data.tags
    assert [r.source for r in latest_runs(settings=settings)] == [done]

    # a run cut short after it was evaluated (Ctrl-C while logging the figures) is no result either
    client.set_terminated(done, "KILLED")
    assert latest_runs(settings=settings) == []


@pytest.mark.slow
def test_ctrl_c_during_training_ends_the_run_killed(settings: Settings, shared: Path, tmp_path: Path) -> None:
    from mlflow import MlflowClient

    fetch(["conref_stance_ita"])
    build("conref_ita")
    config = tmp_path / "lr.yaml"
    config.write_text("name: lr\ntask: stance\ndataset: conref_ita\nmodel: {type: tfidf_lr}\n")
    tracking.connect(settings)
    proc = _train_in_background(config, settings)
    run_id = _running_run(proc.pid)
    proc.send_signal(signal.SIGINT)
    proc.wait(60)
    assert proc.returncode != 0
    assert MlflowClient().get_run(run_id).info.status == "KILLED"
