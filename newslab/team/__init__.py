"""A team's stack on one machine: PostgreSQL, Label Studio and an MLflow tracking server on it.

``newslab team up`` starts them (``stack.up``); the pieces are small modules: ``passwords``
(generated once, kept 0600), ``postgres`` (a cluster, or an existing server, and its roles),
``mlflow_server`` and ``stack`` (the state file, status, down, the other machines' settings).
"""
