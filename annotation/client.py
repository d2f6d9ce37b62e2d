"""Connecting to Label Studio (local or remote) and calling it with retries."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx

from core.errors import NewslabError
from core.settings import Settings, get_settings

T = TypeVar("T")
RETRYABLE_STATUS = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Connection:
    url: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}

    def client(self):  # type: ignore[no-untyped-def]
        from label_studio_sdk import LabelStudio

        return LabelStudio(base_url=self.url, api_key=self.token, timeout=600)


def resolve(settings: Settings | None = None) -> Connection:
    """URL and token: NEWSLAB_LS_URL + LABEL_STUDIO_API_KEY (or _USER_TOKEN), else the local server's."""
    from annotation import server

    settings = settings or get_settings()
    url = settings.ls_url or server.status(settings).url
    token = os.environ.get("LABEL_STUDIO_API_KEY") or os.environ.get("LABEL_STUDIO_USER_TOKEN")
    if not token:
        if settings.ls_url:
            raise NewslabError(
                f"no API token for {url}.", "Set LABEL_STUDIO_API_KEY to your Label Studio access token."
            )
        token = server.credentials(settings).token
    return Connection(url.rstrip("/"), token)


def connect(settings: Settings | None = None) -> Connection:
    """A checked connection: the server answers and accepts the token."""
    conn = resolve(settings)
    try:
        health = httpx.get(f"{conn.url}/health", timeout=10)
        whoami = httpx.get(f"{conn.url}/api/current-user/whoami", headers=conn.headers, timeout=10)
    except httpx.HTTPError as exc:
        raise NewslabError(
            f"Label Studio at {conn.url} is not reachable ({type(exc).__name__}).",
            "Start it with `newslab annotate serve`, or set NEWSLAB_LS_URL to a running server.",
        ) from None
    if health.status_code != 200:
        raise NewslabError(f"Label Studio at {conn.url} is unhealthy (HTTP {health.status_code}).")
    if whoami.status_code in (401, 403):
        raise NewslabError(f"Label Studio at {conn.url} refused the API token (HTTP {whoami.status_code}).")
    return conn


def is_transient(exc: BaseException) -> bool:
    from label_studio_sdk.core.api_error import ApiError

    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, ApiError) and exc.status_code in RETRYABLE_STATUS


def with_retries(
    call: Callable[[], T],
    what: str,
    attempts: int = 5,
    base_delay: float = 1.0,
    before_retry: Callable[[], None] | None = None,
) -> T:
    """Call, retrying transient failures (network, 5xx, 429) with exponential backoff."""
    for attempt in range(1, attempts + 1):
        try:
            if attempt > 1 and before_retry:
                before_retry()  # inside the try: a server still down fails this attempt, not the caller
            return call()
        except NewslabError:
            raise
        except Exception as exc:
            if not is_transient(exc) or attempt == attempts:
                detail = getattr(exc, "body", None) or exc
                raise NewslabError(
                    f"Label Studio: {what} failed after {attempt} attempt(s): {detail}"
                ) from None
            time.sleep(base_delay * 2 ** (attempt - 1))
    raise AssertionError("unreachable")
