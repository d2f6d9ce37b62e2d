"""One retraining: pull the annotations, rebuild the dataset, train, evaluate, compare.

It runs in a process of its own (``python -m newslab.backend.retrain REQUEST OUT``), so the
backend keeps answering ``/predict`` at full speed while it trains, a crash in training cannot
take the backend down, and training keeps every guarantee it has on the command line (Ctrl-C
marks the run KILLED, a dead run is reaped). The backend only loads what it reports.

The new model is served when its selection score (``selection.<metric>``: validation split or
cross-validation of the training split, never the test split) is at least the served model's;
``eval.evaluate.evaluate_run`` moves the champion alias by the same score.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import traceback
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.errors import NewslabError
from core.files import atomic_write
from core.redact import redact
from core.schema import Schema, load_schema
from core.settings import Settings, get_settings

#: MLflow tags of a run the backend trained
TRIGGER_TAG = "newslab.trigger"
PREVIOUS_TAG = "newslab.previous_model"
PREVIOUS_RUN_TAG = "newslab.previous_run"
EVENT_TAG = "newslab.backend_event"
SNAPSHOTS_TAG = "newslab.annotation_snapshots"


@dataclass(frozen=True)
class RetrainRequest:
    experiment: str  #: the experiment config's path
    task: str
    trigger: str  #: the webhook event that asked for it
    previous_model: str = ""  #: the served model's URI
    previous_version: str = ""
    previous_run_id: str = ""
    project_id: int | None = None  #: the Label Studio project the event came from


@dataclass(frozen=True)
class RetrainResult:
    run_id: str
    version: str  #: "name/N" when registered, else the run id
    uri: str  #: what to load to serve it
    metric: str  #: the selection metric compared
    score: float | None
    previous_score: float | None
    champion: bool  #: the champion alias is on the new model
    serve: bool  #: at least as good as the served model by ``metric``
    annotations: dict[str, int] = field(default_factory=dict)  #: task -> annotations pulled
    dataset_fingerprint: str = ""


@dataclass(frozen=True)
class LabelStudioAccess:
    """Where Label Studio is and a token for it, as its ``/setup`` call said (kept in memory only)."""

    url: str
    token: str = field(repr=False)


def better_or_equal(score: float | None, previous: float | None) -> bool:
    """The new model is served when it has a selection score and the served one has none or less."""
    if score is None:
        return False
    return previous is None or score >= previous


def _pull(request: RetrainRequest, schema: Schema, settings: Settings) -> tuple[dict[str, int], list[str]]:
    """Pull the task's projects (the existing, idempotent pull): annotations per task, snapshot sha256s."""
    from annotation.client import connect
    from annotation.projects import ProjectRef, find_projects
    from annotation.pull import pull

    conn = connect(settings)
    projects = [p for p in find_projects(conn, schema, settings) if p.task == request.task]
    if not projects and request.project_id is not None:  # a project named otherwise: the one that asked
        projects = [ProjectRef(request.task, request.project_id, f"project {request.project_id}")]
    if not projects:
        raise NewslabError(
            f"no Label Studio project for task {request.task!r} to pull annotations from.",
            "Run `newslab annotate setup --backend URL` with the same NEWSLAB_LS_PROJECT_PREFIX.",
        )
    pulled = pull(conn, schema, projects, settings)
    counts = {
        task: int((frame["kind"] == "annotation").sum()) if len(frame) else 0
        for task, (frame, _) in pulled.items()
    }
    shas = [snap.sha256[:16] for _, snaps in pulled.values() for snap in snaps]
    return counts, shas


def _registered(client, name: str, run_id: str) -> tuple[str, bool]:  # type: ignore[no-untyped-def]
    """(version number or "", whether it holds the champion alias) of the run's registered model."""
    from mlflow.exceptions import MlflowException

    from eval.evaluate import CHAMPION

    try:
        versions = client.search_model_versions(f"name='{name}' and run_id='{run_id}'")
    except MlflowException:
        return "", False
    if not versions:
        return "", False
    number = str(max(int(v.version) for v in versions))
    try:
        champion = str(client.get_model_version_by_alias(name, CHAMPION).version) == number
    except MlflowException:
        champion = False
    return number, champion


def retrain(request: RetrainRequest, settings: Settings | None = None) -> RetrainResult:
    """Pull, rebuild the experiment's dataset, train it (tagged with its trigger and the model it may
    replace), evaluate it (which moves the champion alias when its selection score is better), and
    say whether it is at least as good as the served model."""
    settings = settings or get_settings()
    schema = load_schema(settings.schema_path)
    from dataset.build import build
    from dataset.config import config_of
    from eval.evaluate import evaluate_run, registered_name
    from training.config import load_experiment
    from training.runner import primary_metric
    from training.train import selection_metric, train

    config, _ = load_experiment(request.experiment)
    if config.task != request.task:
        raise NewslabError(f"experiment {config.name} trains {config.task!r}, not {request.task!r}.")
    counts, shas = _pull(request, schema, settings)
    built = build(config_of(config.dataset), schema=schema, settings=settings)
    result = train(request.experiment, settings=settings, schema=schema)

    from mlflow import MlflowClient

    from core import tracking

    client = MlflowClient()
    tags = {
        TRIGGER_TAG: "backend",
        EVENT_TAG: request.trigger,
        PREVIOUS_TAG: request.previous_version or request.previous_model,
        PREVIOUS_RUN_TAG: request.previous_run_id,
        SNAPSHOTS_TAG: ",".join(shas),
    }
    for key, value in tracking.safe(tags).items():
        client.set_tag(result.run_id, key, value)
    evaluate_run(result.run_id, settings, schema)
    metric = selection_metric(primary_metric(schema.task(config.task), result.dataset))
    score = client.get_run(result.run_id).data.metrics.get(metric)
    previous = None
    if request.previous_run_id:
        try:
            previous = client.get_run(request.previous_run_id).data.metrics.get(metric)
        except Exception:  # the served model's run is in another store: nothing to compare with
            previous = None
    name = registered_name(config.task, result.dataset)
    number, champion = _registered(client, name, result.run_id)
    version = f"{name}/{number}" if number else result.run_id
    uri = f"models:/{name}/{number}" if number else f"runs:/{result.run_id}/model"
    return RetrainResult(
        run_id=result.run_id,
        version=version,
        uri=uri,
        metric=metric,
        score=score,
        previous_score=previous,
        champion=champion,
        serve=better_or_equal(score, previous),
        annotations=counts,
        dataset_fingerprint=built.fingerprint,
    )


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


class SubprocessRetrainer:
    """Runs ``retrain`` in a child process and reads back its result; one child at a time."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def run(self, request: RetrainRequest, access: LabelStudioAccess | None = None) -> RetrainResult:
        folder = self.settings.data_dir / "backend"
        folder.mkdir(parents=True, exist_ok=True)
        name = stamp()
        request_file, out_file, log = (folder / f"retrain-{name}{s}" for s in (".json", ".out.json", ".log"))
        atomic_write(request_file, json.dumps(asdict(request), indent=2))
        env = dict(os.environ)
        if access is not None and not self.settings.ls_url:
            # no Label Studio configured: the one that called /setup (its address as it sees itself,
            # its token), through the environment, never the command line
            env["NEWSLAB_LS_URL"] = access.url
            env["LABEL_STUDIO_API_KEY"] = access.token
        command = [sys.executable, "-m", "newslab.backend.retrain", str(request_file), str(out_file)]
        with open(log, "ab") as output:
            process = subprocess.Popen(  # its own session: a Ctrl-C reaches it once, through ``stop``
                command,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.settings.project_dir,
                start_new_session=True,
            )
            with self._lock:
                self._process = process
            code = process.wait()
        with self._lock:
            self._process = None
        if not out_file.exists():
            raise NewslabError(f"the retraining process exited with code {code} and no result; see {log}.")
        answer = json.loads(out_file.read_text(encoding="utf-8"))
        if "error" in answer:
            raise NewslabError(answer["error"], answer.get("hint") or f"See {log}.")
        return RetrainResult(**answer["result"])

    def stop(self) -> bool:
        """End a retraining under way (the backend is stopping) as Ctrl-C would: the child marks its
        run KILLED. False when none was under way."""
        with self._lock:
            process = self._process
        if process is None or process.poll() is not None:
            return False
        import signal

        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        return True


def main(argv: list[str] | None = None) -> int:
    """``python -m newslab.backend.retrain REQUEST.json OUT.json``: the child's side."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # as the CLI: never reach for a hub at run time
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    request_file, out_file = (Path(a) for a in (argv or sys.argv[1:]))
    request = RetrainRequest(**json.loads(request_file.read_text(encoding="utf-8")))
    try:
        result = retrain(request)
        answer: dict = {"result": asdict(result)}
    except NewslabError as exc:
        answer = {"error": redact(exc.message), "hint": redact(exc.hint or "")}
    except KeyboardInterrupt:
        answer = {"error": "the retraining was interrupted (the backend stopped)."}
    except Exception as exc:  # a bug: its traceback goes to the log, one line to the backend
        traceback.print_exc()
        answer = {"error": redact(f"retraining failed: {type(exc).__name__}: {exc}")}
    atomic_write(out_file, json.dumps(answer, indent=2))
    print(json.dumps(answer), flush=True)
    return 0 if "result" in answer else 1


if __name__ == "__main__":
    sys.exit(main())
