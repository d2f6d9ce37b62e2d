"""What evaluate_run logs beside the metrics, through a recording stand-in for MlflowClient."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from core.schema import load_schema
from eval.analysis import BREAKDOWNS, CALIBRATION, CONFIDENT, ERRORS, RELIABILITY, log_analysis


class RecordingClient:
    def __init__(self) -> None:
        self.artifacts: dict[str, object] = {}

    def log_dict(self, run_id: str, data: dict, path: str) -> None:
        self.artifacts[path] = data

    def log_text(self, run_id: str, text: str, path: str) -> None:
        self.artifacts[path] = text

    def log_figure(self, run_id: str, figure, path: str) -> None:  # type: ignore[no-untyped-def]
        self.artifacts[path] = figure


def _predictions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "gold": ["favor", "against", "against", "neutral"],
            "pred": ["favor", "favor", "against", "neutral"],
            "proba_favor": [0.9, 0.8, 0.1, 0.2],
            "proba_against": [0.05, 0.1, 0.85, 0.1],
            "proba_neutral": [0.05, 0.1, 0.05, 0.7],
            "lang": ["it", "it", "en", "en"],
            "text": ["a text", "b text", "c text", "d text"],
        }
    )


def test_log_analysis_logs_every_artifact_and_returns_the_ece() -> None:
    task = load_schema().task("stance")
    client = RecordingClient()
    metrics = log_analysis(client, "run", _predictions(), task, "lr: test")
    # top-label confidences .9 (right), .8 (wrong), .85 (right), .7 (right): 15 bins of width 1/15
    # put each in a bin of its own, so ECE = mean |right - confidence| = (.1 + .8 + .15 + .3) / 4
    assert metrics["ece"] == pytest.approx(1.35 / 4)
    assert set(client.artifacts) == {RELIABILITY, CALIBRATION, BREAKDOWNS, ERRORS, CONFIDENT}
    groups = pd.read_csv(io.StringIO(client.artifacts[BREAKDOWNS]))
    assert groups[["column", "value", "n"]].values.tolist() == [["lang", "en", 2], ["lang", "it", 2]]
    errors = client.artifacts[ERRORS]
    assert errors["confused"][0]["gold"] == "against" and errors["confident"][0]["probability"] == 0.8
    assert client.artifacts[CALIBRATION]["n"] == 4


def test_without_probabilities_there_is_no_ece() -> None:
    task = load_schema().task("stance")
    client = RecordingClient()
    frame = _predictions().drop(columns=["proba_favor", "proba_against", "proba_neutral"])
    assert log_analysis(client, "run", frame, task, "t") == {}
    assert RELIABILITY not in client.artifacts and BREAKDOWNS in client.artifacts
