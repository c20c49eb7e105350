"""Profile CSS selectors: the leading class/id step rewritten for speed selects what cssselect's
own translation selects, in the same order (crawler/extraction/selectors.py, ``fast_xpath``)."""

from __future__ import annotations

import pytest
from lxml import etree

from crawler.extraction.document import parse_html
from crawler.extraction.selectors import _TRANSLATOR, compile_css, fast_xpath, select

PAGE = """<html><body class="a page">
<div class="a">one <span class="ab">not a</span><a href="/1" class="b">1</a></div>
<div class="x-a a-x">not a either</div>
<section id="main" class="\tb\na  c">two <p class="a">three</p>
  <ul class="news-feed"><li class="news-feed__item">i1</li><li>i2</li></ul></section>
<p id="main-2">four</p><div id="MAIN">case</div>
</body></html>"""

SELECTORS = [".a", ".b", ".a a", ".a::text", ".a a::attr(href)", "p, .a", ".a, .b li", "#main", "#main p",
             "#main-2", ".news-feed li", ".news-feed__item", ".news-feed", ".ab", ".c", ".missing"]


@pytest.mark.parametrize("css", SELECTORS)
def test_fast_xpath_selects_what_the_translation_selects(css: str) -> None:
    root = parse_html(PAGE)
    plain = etree.XPath(_TRANSLATOR.css_to_xpath(css))
    for node in (root, root.find(".//section"), root.find(".//p")):
        expected = plain(node)
        got = compile_css(css)(node)
        assert [e if isinstance(e, str) else id(e) for e in got] == \
               [e if isinstance(e, str) else id(e) for e in expected], (css, node.tag)


@pytest.mark.parametrize("translated", [
    # cssselect < 1.4 and >= 1.4 write a class test differently; both are rewritten
    "descendant-or-self::*[@class and contains(concat(' ', normalize-space(@class), ' '), ' a ')]",
    "descendant-or-self::*[@class and contains(@class, 'a') and "
    "contains(concat(' ', normalize-space(@class), ' '), ' a ')]",
])
def test_both_cssselect_spellings_of_a_class_are_rewritten(translated: str) -> None:
    assert fast_xpath(translated).startswith("descendant-or-self::node()/@class[contains(., 'a')]")
    root = parse_html(PAGE)
    expected, got = etree.XPath(translated)(root), etree.XPath(fast_xpath(translated))(root)
    assert len(got) == len(expected) == 4 and all(g is e for g, e in zip(got, expected))


def test_only_a_lone_leading_class_or_id_step_is_rewritten() -> None:
    assert "/@class[" in fast_xpath(_TRANSLATOR.css_to_xpath(".a"))
    assert "/@id[" in fast_xpath(_TRANSLATOR.css_to_xpath("#main p"))
    mixed = ("descendant-or-self::*[@class and contains(@class, 'b') and "
             "contains(concat(' ', normalize-space(@class), ' '), ' a ')]")
    assert fast_xpath(mixed) == mixed
    for css in ("div.a", ".a.b", ".a:first-child", "li"):  # a tag step, two tests, a pseudo-class
        assert fast_xpath(_TRANSLATOR.css_to_xpath(css)) == _TRANSLATOR.css_to_xpath(css)


def test_select_reads_classes_with_whitespace_runs_as_tokens() -> None:
    root = parse_html(PAGE)
    assert [e.get("id") for e in select(root, ".c")] == ["main"]
    assert [e.text for e in select(root, ".ab")] == ["not a"]
