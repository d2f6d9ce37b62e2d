"""Secrets out of every message: one function that every line naming a URI goes through.

Secrets are never settings (they come from the environment), but they travel inside URIs
(``postgresql+psycopg://user:SECRET@host/db``) and sometimes inside error texts that quote
them. ``redact`` hides the password of every URI in a text, and the value of every secret
environment variable newslab knows, wherever it appears.
"""

from __future__ import annotations

import os
import re

MASK = "***"

#: environment variables whose values are secrets (tokens, passwords)
SECRET_ENV = (
    "LABEL_STUDIO_PASSWORD",
    "LABEL_STUDIO_USER_TOKEN",
    "LABEL_STUDIO_API_KEY",
    "POSTGRE_PASSWORD",
    "PGPASSWORD",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
    "NEWSLAB_POSTGRES_PASSWORD",
)

#: scheme://user:password@  (user may be empty; the password is what goes)
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@")
#: password=... in libpq keyword strings and query strings
_KEYWORD = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|token|api_key)=)(?P<value>[^\s&;'\"]+)", re.IGNORECASE
)


def redact(text: object) -> str:
    """``text`` with passwords in URIs, ``password=`` pairs and known secret values masked."""
    out = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", str(text))
    out = _KEYWORD.sub(lambda m: f"{m['key']}{MASK}", out)
    for name in SECRET_ENV:
        value = os.environ.get(name, "")
        if len(value) >= 4:  # a one-letter 'secret' would mask half the message
            out = out.replace(value, MASK)
    return out
