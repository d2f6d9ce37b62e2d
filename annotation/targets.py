"""Which stance targets an article mentions: the schema's aliases matched with spaCy's PhraseMatcher."""

from __future__ import annotations

from functools import lru_cache

from spacy.matcher import PhraseMatcher

from core.schema import Schema
from corpus.sentences import pipeline


def _is_acronym(phrase: str) -> bool:
    return phrase.isupper() and len(phrase) <= 3


@lru_cache(maxsize=16)
def _matchers(
    lang: str, aliases: tuple[tuple[str, tuple[str, ...]], ...]
) -> tuple[PhraseMatcher, PhraseMatcher]:
    """Case-insensitive matching, except short acronyms ("US", "EU"), matched exactly so "us" is not."""
    nlp = pipeline(lang)
    loose = PhraseMatcher(nlp.vocab, attr="LOWER")
    exact = PhraseMatcher(nlp.vocab, attr="ORTH")
    for code, phrases in aliases:
        for matcher, keep in ((loose, False), (exact, True)):
            docs = [nlp.make_doc(p) for p in phrases if _is_acronym(p) == keep]
            if docs:
                matcher.add(code, docs)
    return loose, exact


def _aliases(schema: Schema, lang: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    out = []
    for target in schema.targets:
        phrases = set(target.aliases.get(lang, ())) | set(target.aliases.get("en", ())) | {target.name}
        out.append((target.code, tuple(sorted(phrases))))
    return tuple(out)


def mentioned_targets(schema: Schema, texts: list[str], lang: str) -> list[dict[str, int]]:
    """For each text, the schema targets it mentions and how often (``{code: count}``)."""
    aliases = _aliases(schema, lang)
    nlp = pipeline(lang)
    loose, exact = _matchers(lang, aliases)
    out = []
    for doc in nlp.tokenizer.pipe(texts, batch_size=64):
        counts: dict[str, int] = {}
        for match_id, _, _ in [*loose(doc), *exact(doc)]:
            code = nlp.vocab.strings[match_id]
            counts[code] = counts.get(code, 0) + 1
        out.append(counts)
    return out
