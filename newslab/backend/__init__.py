"""A Label Studio ML backend that serves newslab models and retrains them on request.

Label Studio asks it for predictions when a task is opened (or from the Data Manager), and
sends it ``START_TRAINING`` (the project's "Start training" button, ``POST /api/ml/<id>/train``);
newslab answers from a model loaded through ``training.loading.load`` and retrains the task's
experiment on freshly pulled annotations, serving the new model only when its selection score
is at least as good.

- ``model.NewslabMLModel``: the model, with ``LabelStudioMLBase``'s ``setup`` / ``predict`` /
  ``fit`` interface;
- ``server``: the HTTP routes of Label Studio's ML backend protocol (``create_app``), ``serve``
  (the command) and ``start`` (the same server in a thread, for benchmarks and tests);
- ``retrain``: one retraining (pull, build, train, evaluate, compare), run in its own process;
- ``choose``: which model and experiment a backend serves, checked before anything starts;
- ``connect``: ``newslab annotate setup --backend URL`` (the Label Studio side);
- ``status``: the records ``/health`` answers with and ``--status`` prints.
"""

from __future__ import annotations

#: label-studio-ml-backend's port
DEFAULT_PORT = 9090
DEFAULT_HOST = "127.0.0.1"
