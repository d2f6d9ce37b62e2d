"""A sweep's storage on a database server rides out a restart: retried calls, then one clear error."""

from __future__ import annotations

import optuna
import pytest
from sqlalchemy.exc import OperationalError

from core.errors import NewslabError
from training import sweep


def _flaky(failures: int, error: Exception):  # type: ignore[no-untyped-def]
    calls = []

    def method(*args: object) -> str:
        calls.append(args)
        if len(calls) <= failures:
            raise error
        return "ok"

    return method, calls


def _wrapped_by_optuna() -> Exception:
    try:
        try:
            raise OperationalError("SELECT 1", {}, Exception("the database system is shutting down"))
        except OperationalError as exc:
            raise optuna.exceptions.StorageInternalError("commit failed") from exc
    except optuna.exceptions.StorageInternalError as outer:
        return outer


def test_a_lost_connection_is_retried_until_the_server_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep, "RECONNECT_S", (0, 0, 0))
    method, calls = _flaky(2, _wrapped_by_optuna())
    assert sweep._reconnecting(method)("study") == "ok"
    assert len(calls) == 3


def test_a_server_that_stays_down_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep, "RECONNECT_S", (0, 0))
    method, calls = _flaky(99, OperationalError("x", {}, Exception("postgresql://u:pw9876@h/db refused")))
    with pytest.raises(NewslabError, match="Optuna storage stopped answering") as caught:
        sweep._reconnecting(method)()
    assert len(calls) == 3 and "pw9876" not in str(caught.value)


def test_other_errors_are_not_retried() -> None:
    method, calls = _flaky(1, ValueError("bad trial"))
    with pytest.raises(ValueError):
        sweep._reconnecting(method)()
    assert len(calls) == 1


def test_sqlite_stays_a_plain_url() -> None:
    assert sweep.open_storage("sqlite:///x.db") == "sqlite:///x.db"
