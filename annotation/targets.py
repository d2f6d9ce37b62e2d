"""Which stance targets an article mentions: the schema's aliases matched with spaCy's PhraseMatcher."""

from __future__ import annotations

from functools import lru_cache

from spacy.matcher import PhraseMatcher

from corpus.sentences import pipeline
from newslab.schema import Schema


@lru_cache(maxsize=16)
def _matcher(
    schema_fingerprint: str, lang: str, aliases: tuple[tuple[str, tuple[str, ...]], ...]
) -> PhraseMatcher:
    nlp = pipeline(lang)
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    for code, phrases in aliases:
        # case-sensitive short acronyms ("US", "EU") would match "us", "eu": match those on ORTH
        matcher.add(code, [nlp.make_doc(p) for p in phrases if not (p.isupper() and len(p) <= 3)])
    return matcher


@lru_cache(maxsize=16)
def _acronyms(
    schema_fingerprint: str, lang: str, aliases: tuple[tuple[str, tuple[str, ...]], ...]
) -> PhraseMatcher:
    nlp = pipeline(lang)
    matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
    for code, phrases in aliases:
        exact = [nlp.make_doc(p) for p in phrases if p.isupper() and len(p) <= 3]
        if exact:
            matcher.add(code, exact)
    return matcher


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
    loose = _matcher(schema.fingerprint, lang, aliases)
    exact = _acronyms(schema.fingerprint, lang, aliases)
    out = []
    for doc in nlp.tokenizer.pipe(texts, batch_size=64):
        counts: dict[str, int] = {}
        for match_id, _, _ in [*loose(doc), *exact(doc)]:
            code = nlp.vocab.strings[match_id]
            counts[code] = counts.get(code, 0) + 1
        out.append(counts)
    return out
