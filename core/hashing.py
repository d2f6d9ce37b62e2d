"""Content hashes: the short text hash that ties an annotation to the exact text it was made on."""

from __future__ import annotations

import hashlib


def text_hash(text: str) -> str:
    """The first 16 hex digits of the text's SHA-256 (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
