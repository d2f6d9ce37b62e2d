"""The team stack's settings for other machines, without starting anything."""

from __future__ import annotations

import socket

from newslab.team.stack import _other_machines, masked

SECRETS = {"ls_token": "tok-123456", "optuna": "pw-abcdef"}


def _state(host: str, external: bool = False) -> dict:
    database = {"external": external, "host": "db.example" if external else "127.0.0.1", "port": 6543}
    return {"host": host, "database": database, "labelstudio": {"port": 8081}, "mlflow": {"port": 5001}}


def test_listening_on_every_address_names_this_machine_for_the_others() -> None:
    values = _other_machines(_state("0.0.0.0"), SECRETS)
    name = socket.gethostname()
    assert values["NEWSLAB_LS_URL"] == f"http://{name}:8081"
    assert values["NEWSLAB_TRACKING_URI"] == f"http://{name}:5001"
    assert values["NEWSLAB_OPTUNA_STORAGE"] == (
        f"postgresql+psycopg://newslab_optuna:pw-abcdef@{name}:6543/newslab_optuna"
    )


def test_an_external_database_is_named_as_given_and_loopback_stays_loopback() -> None:
    values = _other_machines(_state("127.0.0.1", external=True), SECRETS)
    assert values["NEWSLAB_LS_URL"] == "http://127.0.0.1:8081"
    assert "@db.example:6543/" in values["NEWSLAB_OPTUNA_STORAGE"]


def test_what_is_printed_hides_the_token_and_the_password() -> None:
    shown = masked(_other_machines(_state("0.0.0.0"), SECRETS))
    assert shown["LABEL_STUDIO_API_KEY"] == "***"
    assert "pw-abcdef" not in shown["NEWSLAB_OPTUNA_STORAGE"] and ":***@" in shown["NEWSLAB_OPTUNA_STORAGE"]
