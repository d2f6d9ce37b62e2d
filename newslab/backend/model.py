"""The backend's model: ``LabelStudioMLBase``'s interface over a newslab model.

``setup`` is Label Studio connecting (answered with the served version), ``predict`` answers a
batch of tasks with one model call, and ``fit`` is a webhook event: ``START_TRAINING`` (and, with
``retrain_every``, every N new annotations) starts one retraining in the background; a second
one while it runs is answered "already training". The served model is swapped only when the
retraining reports a model at least as good, loaded through ``training.loading.load``.
"""

from __future__ import annotations

import logging
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from core.errors import NewslabError
from core.redact import redact
from core.schema import Schema
from newslab.backend import status as records
from newslab.backend.retrain import LabelStudioAccess, RetrainRequest, RetrainResult
from training.loading import LoadedModel, check_serves, load
from training.predict import prelabel_rows

log = logging.getLogger("newslab.backend")

START_TRAINING = "START_TRAINING"
#: events that count toward ``retrain_every`` (a bulk import counts its annotations)
ANNOTATION_EVENTS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED")


class Retrainer(Protocol):
    def run(self, request: RetrainRequest, access: LabelStudioAccess | None = None) -> RetrainResult: ...

    def stop(self) -> bool: ...


class AlreadyTraining(NewslabError):
    """A retraining is under way; the backend trains one model at a time."""


def choices_names(label_config: str) -> list[str]:
    """The names of the ``<Choices>`` controls of a labeling config ([] when it cannot be read)."""
    try:
        return [c.get("name", "") for c in ET.fromstring(label_config).iter("Choices")]
    except ET.ParseError:
        return []


class NewslabMLModel:
    """A newslab model answering Label Studio, and retraining its experiment when asked."""

    def __init__(
        self,
        loaded: LoadedModel,
        task: str,
        schema: Schema,
        experiment: str = "",
        retrainer: Retrainer | None = None,
        retrain_every: int = 0,
        loader: Callable[[str], LoadedModel] = load,
    ) -> None:
        self.task = task
        self.schema = schema
        self.experiment = experiment
        self.retrainer = retrainer
        self.retrain_every = retrain_every
        self.loader = loader
        self._loaded = loaded
        self._lock = threading.Lock()
        self._training: records.Training | None = None
        self._last: records.Training | None = None
        self._thread: threading.Thread | None = None
        self._new_annotations = 0
        self._access: LabelStudioAccess | None = None
        self.predicted = 0  #: tasks answered since the start

    # -- what is served ------------------------------------------------------------------------

    @property
    def loaded(self) -> LoadedModel:
        with self._lock:
            return self._loaded

    @property
    def model_version(self) -> str:
        return self.loaded.version

    def status(self) -> records.BackendStatus:
        with self._lock:
            loaded, training, last = self._loaded, self._training, self._last
        return records.BackendStatus(
            model=redact(loaded.uri),
            model_version=loaded.version,
            run_id=loaded.run_id,
            task=self.task,
            experiment=self.experiment,
            training=training.to_dict() if training else None,
            last_training=last.to_dict() if last else None,
            labels=list(loaded.card.labels),
            schema_fingerprint=self.schema.fingerprint,
        )

    # -- LabelStudioMLBase's interface ---------------------------------------------------------

    def setup(
        self,
        project: str = "",
        schema: str = "",
        hostname: str = "",
        access_token: str = "",
        extra_params: Any = None,
        **kwargs: Any,
    ) -> dict[str, str]:
        """Label Studio connects (or checks the connection): the project's config must have the
        task's choices. Its address and token are kept in memory for pulling annotations."""
        if schema and self.task not in choices_names(schema):
            raise NewslabError(
                f"project {project or '?'}: its labeling config has no <Choices name={self.task!r}>; this "
                f"backend serves {self.task}.",
                "Connect it to the task's own project (`newslab annotate setup --backend URL`).",
            )
        if hostname and access_token:
            with self._lock:
                self._access = LabelStudioAccess(hostname.rstrip("/"), access_token)
        return {"model_version": self.model_version}

    def predict(self, tasks: list[dict], context: Any = None, **kwargs: Any) -> list[dict]:
        """One prediction per task, in order, from one call of the served model; each names the
        model's version and carries the score Label Studio sorts by."""
        loaded = self.loaded  # one model for the whole batch, even if a swap happens meanwhile
        card = loaded.card
        rows = [t.get("data", t) if isinstance(t, dict) else {} for t in tasks or []]
        for task, data in zip(tasks or [], rows, strict=True):
            missing = [c for c in card.inputs if not isinstance(data.get(c), str)]
            if missing:
                where = task.get("id", "?") if isinstance(task, dict) else "?"
                raise NewslabError(
                    f"task {where}: its data has no {', '.join(missing)}; the {card.task} model reads "
                    f"{', '.join(card.inputs)}.",
                    "Push tasks with `newslab annotate push`, which gives them these fields.",
                )
        if not rows:
            return []
        out = prelabel_rows(loaded, rows, self.task)
        self.predicted += len(out)
        return out

    def fit(self, event: str, data: dict | None = None, **kwargs: Any) -> dict[str, Any]:
        """A webhook event: START_TRAINING retrains now; annotation events count toward
        ``retrain_every``; anything else is acknowledged and ignored."""
        data = data or {}
        if event == START_TRAINING:
            return self.start_training(event, data.get("project"))
        if event in ANNOTATION_EVENTS and self.retrain_every and self.retrainer is not None:
            added = data.get("annotation")
            count = len(added) if isinstance(added, list) else 1
            with self._lock:
                self._new_annotations += count
                due = self._new_annotations >= self.retrain_every and self._training is None
                seen = self._new_annotations
            if due:
                return self.start_training(event, data.get("project"))
            return {"status": "counted", "new_annotations": seen, "retrain_every": self.retrain_every}
        return {"status": "ignored", "event": event}

    # -- retraining ----------------------------------------------------------------------------

    def start_training(self, trigger: str, project: Any = None) -> dict[str, Any]:
        """Start one retraining in the background; refused while one runs."""
        if self.retrainer is None or not self.experiment:
            raise NewslabError(
                "this backend does not retrain: it was started without an experiment.",
                "Start it with `newslab annotate backend --experiment EXPERIMENT`.",
            )
        if isinstance(project, dict):
            config = project.get("label_config")
            if config and self.task not in choices_names(config):
                raise NewslabError(
                    f"project {project.get('id', '?')} has no <Choices name={self.task!r}>: this backend "
                    f"retrains {self.task}."
                )
        project_id = project.get("id") if isinstance(project, dict) else None
        with self._lock:
            if self._training is not None:
                raise AlreadyTraining(
                    f"already training (since {self._training.started}, asked by {self._training.trigger}).",
                    "Wait for it to finish: `newslab annotate backend --status`.",
                )
            loaded = self._loaded
            record = records.Training(trigger=trigger, previous_version=loaded.version)
            self._training = record
            self._new_annotations = 0
            access = self._access
        request = RetrainRequest(
            experiment=self.experiment,
            task=self.task,
            trigger=trigger,
            previous_model=loaded.uri,
            previous_version=loaded.version,
            previous_run_id=loaded.run_id,
            project_id=int(project_id) if str(project_id or "").isdigit() else None,
        )
        thread = threading.Thread(
            target=self._train, args=(record, request, access), name="newslab-retrain", daemon=True
        )
        with self._lock:
            self._thread = thread
        thread.start()
        return {"status": "training started", "training": record.to_dict()}

    def _train(
        self, record: records.Training, request: RetrainRequest, access: LabelStudioAccess | None
    ) -> None:
        assert self.retrainer is not None
        try:
            result = self.retrainer.run(request, access)
            record = replace(
                record,
                run_id=result.run_id,
                version=result.version,
                metric=result.metric,
                score=result.score,
                previous_score=result.previous_score,
                champion=result.champion,
            )
            if result.serve:
                new = self.loader(result.uri)
                check_serves(new, self.schema, self.task)
                with self._lock:
                    self._loaded = new
                record.state = records.SERVED
            else:
                record.state = records.KEPT
            log.info("retraining %s: %s (%s)", record.state, result.version, result.run_id)
        except NewslabError as exc:
            record.state, record.error = records.FAILED, redact(exc.message)
            log.warning("retraining failed: %s", record.error)
        except Exception as exc:  # a bug must not end the backend: it is reported in the status
            record.state = records.FAILED
            record.error = redact(f"{type(exc).__name__}: {exc}")
            log.exception("retraining failed")
        finally:
            record.finished = records.now()
            with self._lock:
                self._last, self._training = record, None

    def wait(self, timeout: float | None = None) -> records.Training | None:
        """Wait for the retraining under way (tests, benchmarks); the last one's record."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        with self._lock:
            return self._last

    def shutdown(self) -> None:
        """The backend is stopping: a retraining under way is stopped (its MLflow run ends KILLED)."""
        if self.retrainer is not None and self.retrainer.stop():
            log.warning("a retraining under way was stopped; its MLflow run is marked KILLED.")
