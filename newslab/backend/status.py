"""What a running backend says about itself: ``GET /health`` answers with it, ``--status`` prints it.

One record for both, so what Label Studio's health check, a person and a test read is the same.
No secret is ever part of it (Label Studio's access token stays in the model's memory).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from core.errors import NewslabError

#: a retraining's states: running, then one of the others
TRAINING, SERVED, KEPT, FAILED = "training", "served", "kept", "failed"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Training:
    """One retraining: why it started, what it made, and whether its model is now served."""

    trigger: str  #: the webhook event (START_TRAINING, ANNOTATION_CREATED, ...) or "train"
    started: str = field(default_factory=now)
    state: str = TRAINING  #: training, served (the new model is served), kept (the old one), failed
    finished: str = ""
    previous_version: str = ""
    run_id: str = ""
    version: str = ""  #: the new model's version ("name/N" when registered, else the run id)
    metric: str = ""  #: the selection metric compared, e.g. selection.macro_f1
    score: float | None = None
    previous_score: float | None = None
    champion: bool = False  #: the champion alias moved to the new model
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BackendStatus:
    model: str  #: the URI it was loaded from
    model_version: str
    run_id: str
    task: str
    experiment: str  #: "" when the backend cannot retrain
    training: dict[str, Any] | None  #: the retraining under way
    last_training: dict[str, Any] | None  #: the last one finished (or failed)
    labels: list[str] = field(default_factory=list)  #: the task's label codes the model predicts
    schema_fingerprint: str = ""
    status: str = "UP"
    model_class: str = "NewslabMLModel"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fetch(url: str, timeout: float = 5.0) -> dict[str, Any]:
    """The status of the backend at ``url`` (its ``GET /health``)."""
    url = url.rstrip("/")
    try:
        response = httpx.get(f"{url}/health", timeout=timeout)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise NewslabError(
            f"no newslab backend answers at {url} ({type(exc).__name__}).",
            "Start one with `newslab annotate backend`, or give its address with --url.",
        ) from None


def describe(status: dict[str, Any]) -> list[str]:
    """``status`` in a few lines for a person."""
    lines = [
        f"serving {status.get('model_version') or '?'} ({status.get('model', '?')}) for task "
        f"{status.get('task', '?')}",
        f"retrains experiment {status['experiment']}" if status.get("experiment") else "no retraining",
    ]
    for label, record in (
        ("training now", status.get("training")),
        ("last training", status.get("last_training")),
    ):
        if not record:
            continue
        line = f"{label}: {record['state']} ({record['trigger']}, started {record['started']}"
        line += f", finished {record['finished']})" if record.get("finished") else ")"
        if record.get("run_id"):
            line += f"; run {record['run_id']}"
        if record.get("score") is not None:
            previous = record.get("previous_score")
            line += f"; {record['metric']} {record['score']:.4f}"
            line += f" against {previous:.4f}" if previous is not None else ""
        if record.get("champion"):
            line += "; now champion"
        if record.get("error"):
            line += f"; error: {record['error']}"
        lines.append(line)
    return lines
