"""Corpus stage: articles from the formats researchers have, into one clean, deduplicated store."""
