"""Progress of long training steps: one hook (``core.progress.step``) reported to a sink."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import progress
from core.progress import Event, reporting_to, step


def test_a_step_reports_start_each_advance_with_an_estimate_and_end() -> None:
    events: list[Event] = []
    with reporting_to(events.append), step("encoding 4 texts", total=4) as advance:
        advance(1)
        advance(3)
    assert [e.kind for e in events] == ["start", "advance", "advance", "end"]
    assert [e.done for e in events] == [0, 1, 4, 4]
    assert events[1].eta is not None and events[1].elapsed >= 0 and events[2].eta == 0
    assert events[0].eta is None  # nothing done yet: no estimate


def test_a_failing_step_still_ends() -> None:
    events: list[Event] = []
    with pytest.raises(ValueError), reporting_to(events.append), step("fitting") as advance:
        advance()
        raise ValueError("boom")
    assert events[-1].kind == "end"


def test_quiet_when_stderr_is_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(progress.sys.stderr, "isatty", lambda: False, raising=False)
    assert progress.current_sink() is None
    with step("encoding", total=3) as advance:
        advance(3)
    assert capsys.readouterr().err == ""


def test_the_terminal_sink_draws_nested_steps_inside_a_status(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.console import err_console, terminal_sink

    with err_console.status("training"), reporting_to(terminal_sink), step("fold", total=2) as fold:
        with step("encoding", total=10) as encode:
            encode(10)
        fold(1)
    assert terminal_sink._bar is None and not terminal_sink._tasks


def _steps(events: list[Event]) -> set[str]:
    return {e.description.split(" ")[0] for e in events if e.kind == "start"}


def test_encoding_reports_progress(fake_encoder_model: None) -> None:
    from newslab_model.embeddings import SentenceEmbedder

    events: list[Event] = []
    texts = [f"text number {i}" for i in range(300)]
    with reporting_to(events.append):
        SentenceEmbedder().transform(texts)
    starts = [e for e in events if e.kind == "start"]
    assert starts and starts[0].total == 300 and "encoding" in starts[0].description
    assert [e.done for e in events if e.kind == "advance"][-1] == 300


@pytest.fixture
def fake_encoder_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake network behind SentenceEmbedder (its batching and caching stay real)."""
    from newslab_model import embeddings
    from tests.training.conftest import fake_vector

    class Fake:
        def tokenize(self, texts):  # type: ignore[no-untyped-def]
            return {"attention_mask": np.ones((len(texts), 8), dtype=int)}

        def encode(self, texts, batch_size=64, normalize_embeddings=True, **kw):  # type: ignore[no-untyped-def]
            return np.vstack([fake_vector(t) for t in texts])

    monkeypatch.setattr(embeddings.SentenceEmbedder, "_model_path", lambda self: "fake")
    monkeypatch.setattr(embeddings.SentenceEmbedder, "_encoder", lambda self: Fake())
    monkeypatch.setattr(embeddings, "_EMBEDDINGS", {})


def test_boosting_and_bias_folds_report_progress() -> None:
    from core.schema import load_schema
    from training.config import ModelConfig
    from training.models import build_model

    task = load_schema().task("stance")
    rng = np.random.default_rng(0)
    words = ["deal", "war", "peace", "talks", "denied", "hoax", "claims", "report"]
    n = 120
    x = pd.DataFrame(
        {
            "target": [" ".join(rng.choice(words, 3)) for _ in range(n)],
            "text": [" ".join(rng.choice(words, 30)) + "." for _ in range(n)],
        }
    )
    y = [task.codes[i % 4] for i in range(n)]
    config = ModelConfig(
        type="gbdt_pair", params={"svd_components": 4, "max_iter": 40, "tune_bias": "macro_f1"}
    )
    events: list[Event] = []
    with reporting_to(events.append):
        build_model(config, task, 13, lang="en").fit(x, y)
    boosting = [e for e in events if e.description.startswith("boosting")]
    assert boosting and boosting[-1].done == 40 and boosting[0].total == 40
    folds = [e for e in events if e.description.startswith("tuning")]
    assert folds and folds[-1].kind == "end" and folds[-1].done == 3
