"""Property tests: ``CleanPipeline`` turns generated hostile fields into plain, storable text.

The strategies are the ones of ``tests/test_hostile_input.py`` (markup, script and style, control
characters, lone surrogates, entities); the properties: cleaning never raises anything but
``DropItem``, and every text field that comes out is plain text without control characters or
surrogates, which both stores can encode (``orjson``, as the embedded store does).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.items import Article, FeedSnippet
from pipelines.clean import CleanPipeline, plain_text
from tests.hostile import BAD_CHARS, PROPERTY, fragments, words

MARKUP = re.compile(r"<\s*/?\s*[A-Za-z][^>]*>")


@pytest.fixture(scope="module")
def pipeline() -> CleanPipeline:
    crawler = get_crawler(settings_dict={"CLEAN_MIN_BODY_CHARS": 0, "CLEAN_MAX_BODY_CHARS": 500})
    return CleanPipeline.from_crawler(crawler)


def _plain(value: str | None) -> bool:
    # (Script *content* is not checked here: "<?<script>alert(1)" is a bogus comment and then
    # text, in lxml as in a browser; the parametrised cases below pin real script elements.)
    return not value or not (MARKUP.search(value) or BAD_CHARS.search(value) or "<script" in value.lower())


@PROPERTY
@given(title=words | fragments(), body=st.lists(words | fragments(), min_size=1, max_size=6),
       summary=st.none() | words | fragments(), authors=st.lists(words | fragments(), max_size=3),
       caption=st.none() | fragments(), url=words)
def test_clean_pipeline_outputs_plain_storable_text(pipeline: CleanPipeline, title: str, body: list[str],
                                                     summary: str | None, authors: list[str],
                                                     caption: str | None, url: str) -> None:
    item = Article(url=f"http://example.test/{url}", fetched_url=f"http://example.test/{url}", site="s",
                   title=title, body="\n\n".join(body), summary=summary, authors=authors,
                   image_caption=caption, tags=[title], published=datetime(9999, 12, 31, tzinfo=UTC))
    try:
        out = pipeline.process_item(item)
    except DropItem:
        return
    for value in (out.title, out.summary, out.image_caption, *out.authors, *out.tags):
        assert _plain(value), value
    assert not BAD_CHARS.search(out.body) and len(out.body) <= 500
    orjson.dumps({k: v for k, v in out.__dict__.items() if not isinstance(v, datetime)})


@PROPERTY
@given(headline=words | fragments(), text=words | fragments())
def test_clean_pipeline_snippets(pipeline: CleanPipeline, headline: str, text: str) -> None:
    item = FeedSnippet(site="s", headline=headline, text=text, published=None, time_shown="")
    try:
        out = pipeline.process_item(item)
    except DropItem:
        return
    assert _plain(out.headline) and _plain(out.text), (out.headline, out.text)
    orjson.dumps({k: v for k, v in out.__dict__.items() if not isinstance(v, datetime)})


@pytest.mark.parametrize(("raw", "plain"), [
    ("<script>alert(2)</script><b>OG</b> headline", "OG headline"),
    ("<b>Bold</b> summary <style>p{}</style>&amp; more", "Bold summary & more"),
    ("&lt;script&gt;alert(1)&lt;/script&gt;Escaped", "&lt;script&gt;alert(1)&lt;/script&gt;Escaped"),
    ("<i>x</i>&lt;script&gt;alert(1)&lt;/script&gt;Twice", "xTwice"),
    ("AT&amp;T <b>and</b> a < b", "AT&T and a < b"),
    ("NUL\x00 and \ud800 surrogate", "NUL and  surrogate"),
    ("<p>one</p><p>two</p>", "one two "),
    ("plain, AT&amp;T untouched", "plain, AT&amp;T untouched"),
])
def test_plain_text(raw: str, plain: str) -> None:
    assert plain_text(raw) == plain


def test_clean_caps_the_body_at_a_paragraph_and_counts_it(pipeline: CleanPipeline) -> None:
    paragraphs = [f"Paragraph {i} " + "word " * 20 for i in range(20)]
    item = Article(url="http://example.test/a/", fetched_url="http://example.test/a/", site="s",
                   title="<b>Title</b>", body="\n\n".join(paragraphs))
    out = pipeline.process_item(item)
    assert len(out.body) <= 500 and out.body.endswith("word") and out.title == "Title"
    assert out.body.split("\n\n") == [p.strip() for p in paragraphs[: len(out.body.split("\n\n"))]]
    assert pipeline.crawler.stats.get_value("newsmon/clean/body_truncated") >= 1
