"""Sentence segmentation with spaCy: a trained pipeline when one is installed for the
language, else a blank pipeline with the rule-based sentencizer. Batched with ``nlp.pipe``."""

from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language

#: installed pipelines tried first, per language (none is downloaded)
TRAINED = ("{lang}_core_news_sm", "{lang}_core_web_sm", "{lang}_core_news_md", "{lang}_core_web_md")


@lru_cache(maxsize=32)
def pipeline(lang: str) -> Language:
    for template in TRAINED:
        name = template.format(lang=lang)
        if spacy.util.is_package(name):
            nlp = spacy.load(name, exclude=["ner", "lemmatizer", "textcat", "textcat_multilabel"])
            if "senter" in nlp.disabled:
                nlp.enable_pipe("senter")
            return nlp
    try:
        nlp = spacy.blank(lang)
    except ImportError:  # a language spaCy has no rules for: the multi-language tokenizer
        nlp = spacy.blank("xx")
    nlp.add_pipe("sentencizer")
    return nlp


def sentence_starts(texts: list[str], lang: str, batch_size: int = 64) -> list[list[int]]:
    """Character offsets at which each text's sentences start.

    Texts are length-checked before they get here (``corpus.limits``); a limit set above
    spaCy's default raises ``max_length`` rather than failing the batch with E088.
    """
    nlp = pipeline(lang)
    nlp.max_length = max(nlp.max_length, max(map(len, texts), default=0) + 1)
    return [[sent.start_char for sent in doc.sents] for doc in nlp.pipe(texts, batch_size=batch_size)]
