"""Annotator accounts. Label Studio's open-source edition has no API to set a password or read
another user's token, so accounts are made through its sign-up form; the passwords newslab makes
are kept in ``data/labelstudio/annotators.json`` (mode 0600) and never printed or logged."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from annotation.client import Connection, with_retries
from core.errors import NewslabError
from core.files import atomic_write
from core.settings import Settings, get_settings


@dataclass(frozen=True)
class Annotator:
    id: int
    email: str
    token: str


def users_by_email(conn: Connection) -> dict[str, dict]:
    """The server's accounts by e-mail (one listing, retried like every call)."""

    def listed() -> list[dict]:
        response = httpx.get(f"{conn.url}/api/users/", headers=conn.headers, timeout=30)
        response.raise_for_status()
        return response.json()

    return {u["email"]: u for u in with_retries(listed, "listing users")}


def _default_store(settings: Settings | None) -> Path:
    return (settings or get_settings()).ls_dir / "annotators.json"


def _store(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _save(path: Path, data: dict) -> None:
    atomic_write(path, json.dumps(data, indent=2), private=True)  # tokens


def ensure_annotators(
    conn: Connection, emails: list[str], settings: Settings | None = None, store: Path | None = None
) -> list[Annotator]:
    """Create the annotators that do not exist yet; return all of them with their ids and tokens.

    Passwords and tokens are kept in ``store`` (0600; default: the local server's
    ``annotators.json``): one file per server, since a token is only good on its own server.
    """
    store = store or _default_store(settings)
    known = _store(store)
    by_email = users_by_email(conn)
    out = []
    for email in emails:
        if email in known and email in by_email:
            out.append(Annotator(by_email[email]["id"], email, known[email]["token"]))
            continue
        if email in by_email:
            raise NewslabError(
                f"user {email} exists in Label Studio but was not created by newslab; its token is unknown.",
                "Ask the user for their access token, or use another e-mail.",
            )
        password = secrets.token_urlsafe(12)
        with httpx.Client(base_url=conn.url, timeout=30) as web:
            web.get("/user/signup/")
            response = web.post(
                "/user/signup/",
                data={
                    "email": email,
                    "password": password,
                    "csrfmiddlewaretoken": web.cookies.get("csrftoken", ""),
                },
                headers={"Referer": f"{conn.url}/user/signup/"},
            )
            if response.status_code not in (200, 302):
                raise NewslabError(f"Label Studio refused to create {email} (HTTP {response.status_code}).")
            token_response = web.get("/api/current-user/token")
            whoami = web.get("/api/current-user/whoami")
            if token_response.status_code != 200 or whoami.status_code != 200:
                raise NewslabError(f"Label Studio did not create {email}: {response.text[:200]}")
        annotator = Annotator(int(whoami.json()["id"]), email, token_response.json()["token"])
        known[email] = {"id": annotator.id, "password": password, "token": annotator.token}
        _save(store, known)
        out.append(annotator)
    return out


def public(annotators: list[Annotator]) -> list[dict]:
    return [{k: v for k, v in asdict(a).items() if k != "token"} for a in annotators]


def annotator_connection(
    conn: Connection, email: str, settings: Settings | None = None, store: Path | None = None
) -> Connection:
    """A connection carrying the annotator's own token (for annotators created by newslab)."""
    known = _store(store or _default_store(settings))
    if email not in known:
        raise NewslabError(
            f"annotator {email} is unknown to newslab.",
            f"Create the account with `newslab annotate users {email}`.",
        )
    return Connection(conn.url, known[email]["token"])
