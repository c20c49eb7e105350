"""CSS selectors (with Scrapy's ``::text`` and ``::attr(name)``) evaluated on an lxml tree."""

from __future__ import annotations

import re
from functools import lru_cache

from cssselect import SelectorError
from lxml import etree
from lxml.html import HtmlElement
from parsel.csstranslator import HTMLTranslator

from .text import clean_text

__all__ = ["InvalidSelector", "compile_css", "select", "select_elements", "select_texts"]

_TRANSLATOR = HTMLTranslator()

# A selector that starts with a class or an id (".news-feed__item", "#main p") becomes a first
# step that libxml2 tests on every element of the page, slowly:
#   descendant-or-self::*[@class and contains(concat(' ', normalize-space(@class), ' '), ' X ')]
# (cssselect >= 1.4 puts "contains(@class, 'X') and" before the token test). The same elements,
# in the same order, are the parents of the matching attributes, which libxml2 finds much faster
# (a cheap contains() first, the exact token test only on those):
#   descendant-or-self::node()/@class[contains(., 'X')][contains(concat(...(.)...), ' X ')]/..
# Timed on a bench-site page (1,130 elements): 426 -> 204 us for ".byline". Only a first step
# (of the expression or of a union branch) with nothing but that one test is rewritten.
_LEADING_CLASS = re.compile(
    r"(^|\| )descendant-or-self::\*\[@class and (?:contains\(@class, '([^' ]+)'\) and )?"
    r"contains\(concat\(' ', normalize-space\(@class\), ' '\), ' ([^' ]+) '\)\](?=/|$| \|)")
_LEADING_ID = re.compile(r"(^|\| )descendant-or-self::\*\[@id = '([^']+)'\](?=/|$| \|)")


def _class_step(m: re.Match[str]) -> str:
    lead, pre, token = m[1], m[2], m[3]
    if pre is not None and pre != token:
        return m[0]  # not a translation of one class: left as it is
    return (f"{lead}descendant-or-self::node()/@class[contains(., '{token}')]"
            f"[contains(concat(' ', normalize-space(.), ' '), ' {token} ')]/..")


def fast_xpath(xpath: str) -> str:
    """``xpath`` (cssselect's translation) with a leading class or id step as an attribute step."""
    xpath = _LEADING_CLASS.sub(_class_step, xpath)
    return _LEADING_ID.sub(lambda m: f"{m[1]}descendant-or-self::node()/@id[. = '{m[2]}']/..", xpath)


class InvalidSelector(ValueError):
    """A CSS selector of a profile does not parse (names the selector)."""


@lru_cache(maxsize=512)
def compile_css(css: str) -> etree.XPath:
    """Compile ``css`` (pseudo-elements allowed) to an XPath, cached."""
    try:
        return etree.XPath(fast_xpath(_TRANSLATOR.css_to_xpath(css)))
    except (SelectorError, etree.XPathSyntaxError) as exc:
        raise InvalidSelector(f"invalid CSS selector {css!r}: {exc}") from exc


def select(node: HtmlElement, css: str) -> list[HtmlElement | str]:
    """Raw matches of ``css`` under ``node``: elements, or strings for ``::text``/``::attr``."""
    result = compile_css(css)(node)
    return result if isinstance(result, list) else [result]


def select_elements(node: HtmlElement, css: str) -> list[HtmlElement]:
    """Elements matched by ``css`` (string results are dropped)."""
    return [r for r in select(node, css) if isinstance(r, etree._Element)]


def select_texts(node: HtmlElement, css: str) -> list[str]:
    """Cleaned, non-empty texts matched by ``css``; elements give their whole text."""
    out: list[str] = []
    matches = select(node, css)
    if css.rstrip().endswith("::text"):
        # direct text nodes of one element belong together: join them per parent
        joined: dict[int, list[str]] = {}
        order: list[int] = []
        alive = []  # keep parent proxies alive so their ids stay unique
        for m in matches:
            parent = m.getparent() if hasattr(m, "getparent") else None
            alive.append(parent)
            key = id(parent) if parent is not None else id(m)
            if key not in joined:
                joined[key] = []
                order.append(key)
            joined[key].append(str(m))
        texts = [" ".join(joined[k]) for k in order]
    else:
        texts = [m.text_content() if isinstance(m, etree._Element) else str(m) for m in matches]
    for t in texts:
        t = clean_text(t)
        if t:
            out.append(t)
    return out
