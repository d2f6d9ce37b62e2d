"""The HTTP side of Label Studio's ML backend protocol, on Flask 3, and ``serve``.

Routes (as label-studio-ml-backend defines them):

- ``GET /health`` (and ``/``): ``{"status": "UP", "model_version", "model", "task", "training",
  "last_training", ...}`` (``newslab.backend.status``);
- ``POST /setup`` ``{project, schema, hostname, access_token, extra_params}``: ``{"model_version"}``;
- ``POST /predict`` ``{tasks, project, label_config, params: {context}}``: ``{"results": [one
  prediction per task], "model_version"}``;
- ``POST /webhook`` ``{action, project, ...}``: ``START_TRAINING`` starts a retraining (201
  ``{"status": "training started"}``, or 200 ``{"status": "already training"}``); annotation
  events count toward ``--retrain-every``; others are acknowledged;
- ``POST /train``: Label Studio's older training call, taken as ``START_TRAINING``;
- ``GET /metrics`` and ``GET /versions``.

A request newslab refuses gets 400 ``{"error", "hint"}``; a bug, 500 ``{"error"}`` (logged).
Request bodies are never logged: ``/setup``'s carries Label Studio's access token.

Served by werkzeug's threaded server in this process: the served model, the retraining under
way and the count of new annotations are one process's state (gunicorn would have to be held to
one worker to keep them), a request never waits for another, training runs in a child process
anyway, and ``start`` can run the same server in a thread for benchmarks and tests.
"""

from __future__ import annotations

import errno
import logging
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, jsonify, request

from core import interrupts
from core.errors import NewslabError
from core.redact import redact
from core.schema import load_schema
from core.settings import Settings, get_settings
from newslab.backend import DEFAULT_HOST, DEFAULT_PORT
from newslab.backend.choose import choose
from newslab.backend.model import START_TRAINING, AlreadyTraining, NewslabMLModel
from newslab.backend.retrain import SubprocessRetrainer

log = logging.getLogger("newslab.backend")


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise NewslabError("the request body is not a JSON object.")
    return data


def create_app(model: NewslabMLModel) -> Flask:
    """The Flask app answering Label Studio for ``model``."""
    app = Flask("newslab.backend")

    @app.errorhandler(NewslabError)
    def _refused(exc: NewslabError):  # type: ignore[no-untyped-def]
        return jsonify({"error": redact(exc.message), "hint": redact(exc.hint or "")}), 400

    @app.errorhandler(AlreadyTraining)
    def _busy(exc: AlreadyTraining):  # type: ignore[no-untyped-def]
        busy = {"status": "already training", "error": exc.message, "result": model.status().training}
        return jsonify(busy)  # 200: Label Studio shows it, it is no failure

    @app.errorhandler(Exception)
    def _bug(exc: Exception):  # type: ignore[no-untyped-def]
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            return jsonify({"error": exc.description}), exc.code
        log.exception("%s %s failed", request.method, request.path)
        return jsonify({"error": redact(f"{type(exc).__name__}: {exc}")}), 500

    @app.get("/")
    @app.get("/health")
    def health():  # type: ignore[no-untyped-def]
        return jsonify(model.status().to_dict())

    @app.post("/setup")
    def setup():  # type: ignore[no-untyped-def]
        data = _body()
        return jsonify(
            model.setup(
                project=str(data.get("project") or ""),
                schema=data.get("schema") or "",
                hostname=data.get("hostname") or "",
                access_token=data.get("access_token") or "",
                extra_params=data.get("extra_params"),
            )
        )

    @app.post("/predict")
    def predict():  # type: ignore[no-untyped-def]
        data = _body()
        tasks = data.get("tasks") or []
        if not isinstance(tasks, list):
            raise NewslabError("`tasks` must be a list of Label Studio tasks.")
        params = data.get("params") or {}
        context = params.get("context") if isinstance(params, dict) else None
        version = model.model_version
        return jsonify({"results": model.predict(tasks, context=context), "model_version": version})

    @app.post("/webhook")
    def webhook():  # type: ignore[no-untyped-def]
        data = _body()
        event = str(data.pop("action", "") or "")
        result = model.fit(event, data)
        started = result.get("status") == "training started"
        return jsonify({"status": "ok", "result": result}), 201 if started else 200

    @app.post("/train")
    def train():  # type: ignore[no-untyped-def]
        data = _body()
        project = str(data.get("project") or "").split(".", 1)[0]
        payload = {
            "id": int(project) if project.isdigit() else None,
            "label_config": data.get("label_config"),
        }
        result = model.fit(START_TRAINING, {"project": payload})
        return jsonify({"status": "ok", "result": result}), 201

    @app.get("/metrics")
    def metrics():  # type: ignore[no-untyped-def]
        return jsonify({"predicted_tasks": model.predicted, "model_version": model.model_version})

    @app.get("/versions")
    def versions():  # type: ignore[no-untyped-def]
        return jsonify({"versions": [model.model_version]})

    return app


def build_model(
    model: str | None = None,
    task: str | None = None,
    experiment: str | None = None,
    retrain_every: int = 0,
    settings: Settings | None = None,
) -> NewslabMLModel:
    """The backend's model, chosen and checked (``newslab.backend.choose``): refused before it serves."""
    settings = settings or get_settings()
    schema = load_schema(settings.schema_path)
    choice, loaded = choose(model, task, experiment, settings, schema)
    if retrain_every and not choice.experiment:
        raise NewslabError("--retrain-every needs --experiment: the experiment to retrain.")
    retrainer = SubprocessRetrainer(settings) if choice.experiment else None
    return NewslabMLModel(loaded, choice.task, schema, choice.experiment, retrainer, retrain_every)


def _make_server(app: Flask, host: str, port: int):  # type: ignore[no-untyped-def]
    from werkzeug.serving import make_server

    try:
        return make_server(host, port, app, threaded=True)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise NewslabError(
                f"cannot listen on {host}:{port} ({exc.strerror}).", "Choose another --port or --host."
            ) from None
        raise


@dataclass
class Running:
    """A backend served from a thread of this process (benchmarks, tests)."""

    url: str
    model: NewslabMLModel
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.model.shutdown()
        self.thread.join(10)


def start(model: NewslabMLModel, host: str = DEFAULT_HOST, port: int = 0, quiet: bool = True) -> Running:
    """Serve ``model`` from a background thread (port 0: a free one); ``.stop()`` ends it."""
    if quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = _make_server(create_app(model), host, port)
    thread = threading.Thread(target=server.serve_forever, name="newslab-backend", daemon=True)
    thread.start()
    return Running(f"http://{host}:{server.server_port}", model, server, thread)


def serve(
    model: str | None = None,
    task: str | None = None,
    experiment: str | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    retrain_every: int = 0,
    settings: Settings | None = None,
    on_ready: Callable[[str, NewslabMLModel], None] | None = None,
) -> None:
    """``newslab annotate backend``: choose and check the model, then answer Label Studio until
    interrupted (a retraining under way is stopped with it, its run marked KILLED)."""
    ml = build_model(model, task, experiment, retrain_every, settings)
    server = _make_server(create_app(ml), host, port)
    if on_ready:
        on_ready(f"http://{host}:{server.server_port}", ml)
    stopped = "the backend stopped; a retraining under way was stopped too (its MLflow run KILLED)."
    try:
        with interrupts.leaves(stopped):
            # socketserver's loop, not werkzeug's, which would swallow Ctrl-C and exit 0
            socketserver.BaseServer.serve_forever(server)
    finally:
        ml.shutdown()
        server.server_close()
