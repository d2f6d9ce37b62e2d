from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import derive
from core.derive import Source
from core.derive.records import normalise_text
from core.errors import NewslabError

WIKINEWS = ("wikinews_2019.csv", "wikinews_2020.csv")


def test_wikinews_derivation_is_byte_identical_to_the_mirror(shared: Path) -> None:
    folder = shared / "corpus" / "wikinews_en"
    sources = [Source(folder / "upstream" / name, f"data/{name}") for name in WIKINEWS]
    derived = derive.get("wikinews_csv").run(sources)
    assert derived == (folder / "articles.jsonl").read_bytes()


def test_wikinews_rules_on_a_small_scrape(tmp_path: Path) -> None:
    csv_file = tmp_path / "w.csv"
    csv_file.write_text(
        "url,date,title,text\n"
        '"https://en.wikinews.org//wiki/A,_b%27c",2019-01-04,"A, b\'c",'
        '"Friday\xa0 \n\n\nOne  two.\n  Three\n\n\n"\n'
        '"https://en.wikinews.org//wiki/TEST_PAGE:X",2021-03-05,"TEST PAGE:X","test"\n',
        encoding="utf-8",
    )
    [line] = derive.get("wikinews_csv").run([Source(csv_file, "data/w.csv")]).decode().splitlines()
    record = json.loads(line)
    assert record["id"] == "wnen-A_b_27c"
    assert record["url"] == "https://en.wikinews.org/wiki/A,_b%27c"
    assert record["text"] == "Friday\n\nOne two.\n Three"
    assert record["attribution"] == '"A, b\'c", Wikinews, https://en.wikinews.org/wiki/A,_b%27c (CC BY 2.5)'


def test_wikinews_refuses_a_file_with_other_columns(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(NewslabError, match="columns"):
        derive.get("wikinews_csv").run([Source(tmp_path / "x.csv", "x.csv")])


WXR = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0"
  xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>Global Voices</title>
  <wp:author><wp:author_id>7</wp:author_id><wp:author_login>hoder</wp:author_login>
    <wp:author_email>hoder@secret.example.org</wp:author_email>
    <wp:author_display_name><![CDATA[Hossein Derakhshan]]></wp:author_display_name></wp:author>
  <item>
    <title>Iran: Bloggers &amp; the web</title>
    <link>http://globalvoicesonline.org/2004/12/01/iran/</link>
    <pubDate>Wed, 01 Dec 2004 09:30:00 +0000</pubDate>
    <dc:creator>hoder</dc:creator>
    <category><![CDATA[Iran]]></category>
    <category domain="category" nicename="iran"><![CDATA[Iran]]></category>
    <category domain="category" nicename="activism"><![CDATA[activism]]></category>
    <category domain="post_tag" nicename="web"><![CDATA[web]]></category>
    <content:encoded><![CDATA[<p>Write to <a href="mailto:help@blogs.example.com">help@blogs.example.com</a>.
</p>
[caption id="a1" align="alignleft"]<img src="x.jpg" /> A photo by someone[/caption]
<blockquote>A quoted   blogger.</blockquote>
Last&nbsp;line &amp; more.]]></content:encoded>
    <excerpt:encoded><![CDATA[Excerpt text]]></excerpt:encoded>
    <wp:post_id>42</wp:post_id>
    <wp:post_date>2004-12-01 04:30:00</wp:post_date>
    <wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type>
    <wp:postmeta><wp:meta_key>_edit_last</wp:meta_key><wp:meta_value>secret-meta</wp:meta_value></wp:postmeta>
    <wp:comment>
      <wp:comment_author><![CDATA[A Reader]]></wp:comment_author>
      <wp:comment_author_email>reader@mail.example.net</wp:comment_author_email>
      <wp:comment_author_IP>203.0.113.9</wp:comment_author_IP>
      <wp:comment_content><![CDATA[Reader comment text]]></wp:comment_content>
    </wp:comment>
  </item>
  <item>
    <title>Unfinished draft</title>
    <link>http://globalvoicesonline.org/?p=43</link>
    <dc:creator>hoder</dc:creator>
    <content:encoded><![CDATA[Draft body, write to draft@secret.example.org]]></content:encoded>
    <wp:post_id>43</wp:post_id>
    <wp:status>draft</wp:status>
    <wp:post_type>post</wp:post_type>
  </item>
  <item>
    <title>A picture</title>
    <content:encoded><![CDATA[attachment]]></content:encoded>
    <wp:post_id>44</wp:post_id>
    <wp:status>inherit</wp:status>
    <wp:post_type>attachment</wp:post_type>
  </item>
</channel>
</rss>
"""


def test_wordpress_export_keeps_published_posts_without_emails_comments_or_drafts(tmp_path: Path) -> None:
    export = tmp_path / "globalvoicesonline.wordpress.2004 - 123.xml"
    export.write_text(WXR, encoding="utf-8")
    derived = derive.get("wordpress_wxr").run([Source(export, "data/full/" + export.name)])
    raw = derived.decode("utf-8")
    [line] = raw.splitlines()
    record = json.loads(line)
    assert record["id"] == "gven-42"
    assert record["source_file"] == "data/full/globalvoicesonline.wordpress.2004 - 123.xml"
    assert record["title"] == "Iran: Bloggers & the web"
    assert record["date"] == "2004-12-01"
    assert record["author"] == "hoder"  # dc:creator as exported; the <wp:author> block is not read
    assert record["categories"] == ["activism", "Iran"]
    assert record["tags"] == ["web"]
    assert record["text"] == ("Write to [e-mail address removed].\n\nA quoted blogger.\n\nLast line & more.")
    assert record["flags"] == ["very_short"]
    assert record["attribution"] == (
        '"Iran: Bloggers & the web" by hoder, Global Voices, '
        "http://globalvoicesonline.org/2004/12/01/iran/ (CC BY 3.0)"
    )
    for private in (
        "@",
        "203.0.113.9",
        "Reader",
        "secret",
        "Draft",
        "A photo",
        "Excerpt",
        "attachment",
        "Hossein",
    ):
        assert private not in raw, private


def test_wordpress_export_that_is_not_xml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.xml").write_text("<rss><channel>")
    with pytest.raises(NewslabError, match=r"bad\.xml: not a WordPress export"):
        derive.get("wordpress_wxr").run([Source(tmp_path / "bad.xml", "bad.xml")])


def test_normalise_text_keeps_single_line_breaks_and_other_spaces() -> None:
    assert normalise_text(" a\xa0\xa0b \n c\u2009\n\n\n\nd  ") == "a b \n c\u2009\n\nd"


def test_unknown_derive_step_lists_the_known_ones() -> None:
    with pytest.raises(NewslabError, match="wikinews_csv"):
        derive.get("nope")


def test_wordpress_flags_long_posts_that_quote(tmp_path: Path) -> None:
    body = "word " * 90
    items = "".join(
        f"<item><title>T{i}</title><link>http://g/{i}</link><dc:creator>a</dc:creator>"
        f"<content:encoded><![CDATA[{text}]]></content:encoded><wp:post_id>{i}</wp:post_id>"
        "<wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item>"
        for i, text in ((1, body), (2, f"{body}<blockquote>a blogger wrote</blockquote>"))
    )
    export = tmp_path / "x.xml"
    export.write_text(
        '<rss xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.1/">'
        f"<channel>{items}</channel></rss>"
    )
    lines = derive.get("wordpress_wxr").run([Source(export, "x.xml")]).decode().splitlines()
    assert [json.loads(line)["flags"] for line in lines] == [[], ["contains_quoted_third_party_text"]]
