"""HTTP downloads of upstream files: retried with exponential backoff, one clear error naming the URL.

Connection failures, timeouts, broken transfers and 429/5xx answers are retried
(``RETRIES`` attempts, waiting ``BACKOFF_S``, then twice as long each time); any other HTTP
error is final at once. A host that could not be reached at all is not tried again in the same
process: offline, a job that needs ten files gives up in seconds, not minutes. The body is
handed to the caller chunk by chunk, so nothing is held in memory and a broken transfer leaves
nothing behind (the caller writes atomically).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from urllib.parse import urlsplit

from core.errors import Unavailable
from core.redact import redact

RETRIES = 4
BACKOFF_S = 1.0
TIMEOUT_S = 60.0
CHUNK = 1 << 20
RETRY_STATUS = {408, 429, 500, 502, 503, 504}
HINT = "Check the network (or a proxy), or set NEWSLAB_MIRROR_DIR to a local copy of the data."

#: (read: returns the next chunk, b"" at the end; size in bytes when the server says) -> None
Consumer = Callable[[Callable[[], bytes], int | None], None]

#: scheme://host -> why it could not be reached (no connection after every retry)
_unreachable: dict[str, str] = {}


def get(url: str, consume: Consumer, retries: int | None = None, backoff_s: float | None = None) -> None:
    """Stream ``url``'s body to ``consume``; ``Unavailable`` naming the URL when it cannot be had.

    Errors raised by ``consume`` (a checksum mismatch) are not retried."""
    import httpx

    retries = retries or RETRIES
    backoff_s = BACKOFF_S if backoff_s is None else backoff_s
    parts = urlsplit(url)
    host = f"{parts.scheme}://{parts.netloc}"
    shown = redact(url)  # a mirror's URL may carry a password
    if host in _unreachable:
        raise Unavailable(
            f"{shown}: download failed ({redact(host)} could not be reached: {_unreachable[host]}).", HINT
        )
    from core.console import err_console

    err_console.print(f"downloading {shown}", soft_wrap=True, markup=False)
    last, connected = "", False
    for attempt in range(1, retries + 1):
        try:
            with httpx.stream("GET", url, follow_redirects=True, timeout=TIMEOUT_S) as response:
                connected = True
                if response.status_code >= 400 and response.status_code not in RETRY_STATUS:
                    raise Unavailable(
                        f"{shown}: download failed (HTTP {response.status_code} {response.reason_phrase}).",
                        "The upstream file is not at that address: check the URL in assets.yaml.",
                    )
                if response.status_code < 400:
                    size = response.headers.get("content-length")
                    consume(
                        partial(next, response.iter_bytes(CHUNK), b""),
                        int(size) if size and size.isdigit() else None,
                    )
                    return
                last = f"HTTP {response.status_code} {response.reason_phrase}"
        except httpx.HTTPError as exc:  # no connection, timeout, transfer cut short
            last = redact(f"{type(exc).__name__}: {exc}") if str(exc) else type(exc).__name__
        if attempt < retries:
            time.sleep(backoff_s * 2 ** (attempt - 1))
    if not connected:
        _unreachable[host] = last
    raise Unavailable(f"{shown}: download failed after {retries} attempts ({last}).", HINT)
