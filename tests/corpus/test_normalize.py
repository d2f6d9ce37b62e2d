from __future__ import annotations

import unicodedata

from corpus.normalize import article_id, content_key, normalize_text


def test_nfc_whitespace_and_blank_lines() -> None:
    decomposed = unicodedata.normalize("NFD", "perché")
    text = f"  Una\u00a0frase   {decomposed}.\r\n\r\n\r\n\r\nAltra\tfrase.\x07  "
    assert normalize_text(text) == "Una frase perché.\n\nAltra frase."


def test_dateline_only_lines_are_removed() -> None:
    text = "Friday, January 4, 2019\n\nAn apartment building collapsed on Monday.\n4 gennaio 2019\nFine."
    assert normalize_text(text) == "An apartment building collapsed on Monday.\nFine."
    kept = "On January 4, 2019 the building collapsed."
    assert normalize_text(kept) == kept


def test_same_normalised_text_same_id() -> None:
    a = normalize_text("Hello  world.\n\n\n\nBye.")
    b = normalize_text("Hello world.\n\nBye.  ")
    assert a == b and article_id(content_key(a)) == article_id(content_key(b))
    assert article_id(content_key(a)) != article_id(content_key(a + "!"))
    assert len(article_id(content_key(a))) == 16
