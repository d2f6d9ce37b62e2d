"""Global Voices WordPress exports (WXR, github.com/OpenGenderTracking/globalvoices) to corpus JSONL.

The exports hold contributors' e-mail addresses, reader comments (with names, e-mails and IP
addresses), post meta and unpublished drafts. Only published posts come through, and of each
only its id, link, title, date, author name, categories, tags and body as plain text (HTML and
``[caption]`` blocks removed, e-mail addresses in it replaced): nothing else is read.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

from core.derive import Derivation, Source, register
from core.derive.records import jsonl_bytes, normalise_text
from core.errors import NewslabError

SOURCE = "globalvoices.org (WordPress export via github.com/OpenGenderTracking/globalvoices)"
LICENSE = "CC BY 3.0 (Global Voices text; embedded third-party media/quotes may differ)"
LICENSE_URL = "https://creativecommons.org/licenses/by/3.0/"
SHORT_WORDS = 80
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
EMAIL_REMOVED = "[e-mail address removed]"
CAPTION = re.compile(r"\[caption[^\]]*\].*?\[/caption\]", re.S)
#: tags that end a paragraph or a line in the rendered post
BLOCK = {"p", "div", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "pre"}
LINE = {"br", "li", "tr"}
SKIP = {"script", "style"}
NAMESPACES = {"http://purl.org/rss/1.0/modules/content/": "content", "http://purl.org/dc/elements/1.1/": "dc"}


class _Text(HTMLParser):
    """HTML to text: tags dropped, blocks as blank lines, ``<br>`` and list items as line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.quoted = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.quoted |= tag == "blockquote"
        if tag in SKIP:
            self.skipping += 1
        self.parts.append("\n\n" if tag in BLOCK else "\n" if tag in LINE else "")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP:
            self.skipping = max(0, self.skipping - 1)
        self.parts.append("\n\n" if tag in BLOCK else "")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def plain_text(body: str) -> tuple[str, bool]:
    """The body as plain text (captions removed, whitespace normalised), and whether it quotes."""
    parser = _Text()
    parser.feed(CAPTION.sub("", body))
    parser.close()
    return normalise_text("".join(parser.parts)), parser.quoted


def _key(tag: str) -> str:
    """An ElementTree tag as WXR writes it (``wp:status``, ``content:encoded``, ``dc:creator``);
    WordPress's namespaces carry a version, which is ignored."""
    if not tag.startswith("{"):
        return tag
    namespace, _, name = tag[1:].partition("}")
    if namespace.startswith("http://wordpress.org/export/"):
        prefix = "excerpt" if namespace.rstrip("/").endswith("/excerpt") else "wp"
    else:
        prefix = NAMESPACES.get(namespace, namespace)
    return f"{prefix}:{name}"


def _fields(element: ET.Element) -> dict[str, str]:
    """The text of each child element, by tag (the first of a repeated tag)."""
    fields: dict[str, str] = {}
    for child in element:
        fields.setdefault(_key(child.tag), child.text or "")
    return fields


def _terms(item: ET.Element, domains: set[str]) -> list[str]:
    """Category or tag names, once each, sorted regardless of case. WXR 1.0 repeats categories
    without a domain; those count as categories."""
    names = set()
    for child in item.findall("category"):
        domain = child.get("domain") or "category"
        if domain in domains and (child.text or "").strip():
            names.add(html.unescape(child.text.strip()))
    return sorted(names, key=str.casefold)


def _day(pub_date: str, post_date: str) -> str:
    try:
        return parsedate_to_datetime(pub_date).date().isoformat()
    except (TypeError, ValueError):
        return post_date[:10]


def posts(source: Source) -> Iterator[dict]:
    """The published posts of one export, as corpus records."""
    try:
        root = ET.parse(source.path).getroot()
    except ET.ParseError as exc:
        raise NewslabError(f"{source.path}: not a WordPress export ({exc}).") from None
    channel = root.find("channel")
    if channel is None:
        raise NewslabError(f"{source.path}: not a WordPress export (no <channel>).")
    for item in channel.findall("item"):
        f = _fields(item)
        if f.get("wp:post_type") != "post" or f.get("wp:status") != "publish":
            continue
        title, url = (f.get("title") or "").strip(), (f.get("link") or "").strip()
        author = (f.get("dc:creator") or "").strip() or None  # as exported (WordPress 3 writes the login)
        text, quoted = plain_text(f.get("content:encoded", ""))
        n_words = len(text.split())
        flags = ["very_short"] if n_words < SHORT_WORDS else ["contains_quoted_third_party_text"] * quoted
        yield {
            "id": f"gven-{f.get('wp:post_id', '').strip()}",
            "source": SOURCE,
            "source_file": source.origin,
            "lang": "en",
            "url": url,
            "title": title,
            "date": _day(f.get("pubDate", ""), f.get("wp:post_date", "")),
            "author": author,
            "categories": _terms(item, {"category"}),
            "tags": _terms(item, {"post_tag", "tag"}),
            "text": EMAIL.sub(EMAIL_REMOVED, text),
            "n_words": n_words,  # of the text as published, before e-mail addresses were replaced
            "license": LICENSE,
            "license_url": LICENSE_URL,
            "attribution": f'"{title}" by {author}, Global Voices, {url} (CC BY 3.0)',
            "flags": flags,
        }


def derive(sources: Sequence[Source]) -> bytes:
    return jsonl_bytes(record for source in sources for record in posts(source))


register(
    Derivation("wordpress_wxr", "WordPress exports (Global Voices) to corpus JSONL, published posts", derive)
)
