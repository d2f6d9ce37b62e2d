from __future__ import annotations

import pytest

from core.redact import redact


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "postgresql+psycopg://newslab:s3cret@db:5432/mlflow",
            "postgresql+psycopg://newslab:***@db:5432/mlflow",
        ),
        (
            "see http://u:p4ss@host:5000/ and https://a:b%40c@h/x",
            "see http://u:***@host:5000/ and https://a:***@h/x",
        ),
        ("host=db user=x password=s3cret dbname=y", "host=db user=x password=*** dbname=y"),
        ("sqlite:////tmp/mlflow.db", "sqlite:////tmp/mlflow.db"),
        ("http://host:5000/path?x=1", "http://host:5000/path?x=1"),
    ],
)
def test_passwords_in_uris_and_keywords_are_masked(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_secret_environment_values_are_masked_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABEL_STUDIO_USER_TOKEN", "tok-0123456789")
    monkeypatch.setenv("POSTGRE_PASSWORD", "pg-pass-1")
    assert redact("Token tok-0123456789 rejected; pg-pass-1 too") == "Token *** rejected; *** too"
