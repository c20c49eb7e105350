"""Items of a site's "News Feed" widget: clock time, headline, text, link; dates resolved."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from copy import deepcopy
from datetime import datetime
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from .dates import parse_clock, resolve_feed_dates
from .document import base_url, join_url, parse_html
from .selectors import select, select_elements, select_texts
from .text import clean_text, hash_normalize

__all__ = ["extract_news_feed", "snippet_fingerprint", "split_headline"]

# What an item's headline and text never include; dropped from the item (its tail text stays).
_HIDDEN_IN_ITEM = etree.XPath(".//script | .//style | .//noscript | .//template")

_ABBREV = re.compile(
    r"(?:\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Mr|Mrs|Ms|Dr|St|Gen|Col|Lt|Sgt|"
    r"Rep|Sen|Gov|Pres|Prof|No|vs|etc|approx|Jr|Sr|Inc|Ltd|Co)|\b[A-Z]|\b(?:[A-Z]\.){1,3}[A-Z])\.$"
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)]*(?=\s+[\"'“‘«(]?[A-Z0-9\u0400-\u04ff])")


def split_headline(text: str) -> tuple[str, str]:
    """Split ``text`` into its first sentence and the rest (abbreviations like "Nov." kept)."""
    for m in _SENTENCE_END.finditer(text):
        head = text[: m.end()]
        if _ABBREV.search(head.rstrip("\"'”’»)")):
            continue
        return head.strip(), text[m.end():].strip()
    return text.strip(), ""


def _bold_lead(el: HtmlElement) -> str | None:
    """Text of a ``<strong>``/``<b>`` that starts ``el`` (only whitespace before it), or None."""
    bold = next(el.iter("strong", "b"), None)
    if bold is None:
        return None
    prefix: list[str] = []

    def walk(node: HtmlElement) -> bool:
        if node is bold:
            return True
        if node.text:
            prefix.append(node.text)
        for child in node:
            if walk(child):
                return True
            if child.tail:
                prefix.append(child.tail)
        return False

    walk(el)
    head = clean_text(bold.text_content())
    return head if head and not clean_text("".join(prefix)) else None


def _first(node: HtmlElement, css: str | None) -> Any:
    if not css:
        return None
    found = select(node, css)
    return found[0] if found else None


def _item_text(node: HtmlElement, css: str | None) -> tuple[str, HtmlElement | None]:
    if not css:
        return "", None
    found = select(node, css)
    if not found:
        return "", None
    if css.rstrip().endswith("::text") or not isinstance(found[0], etree._Element):
        return " ".join(select_texts(node, css)), None
    return clean_text(" ".join(e.text_content() for e in found if isinstance(e, etree._Element))), found[0]


def extract_news_feed(html: str | bytes, url: str, *, selectors: Mapping[str, str], timezone: str,
                      page_time: datetime, headers_encoding: str | None = None,
                      root: HtmlElement | None = None, keep_tree: bool = False) -> list[dict]:
    """News Feed items of the page, newest first as shown, each with a resolved UTC ``published``.

    ``selectors``: ``item`` (required), ``time``, ``headline``, ``text``, ``link`` (CSS, with
    optional ``::text``/``::attr(x)``). Dates: see :func:`.dates.resolve_feed_dates`. ``root``:
    the page already parsed by ``parse_html(html, headers_encoding)``; it is changed in place,
    unless ``keep_tree``: then it is left as it is (read on by the article extractor), and only a
    page whose items hold scripts or styles to drop is copied first (copying a page costs about
    a third of parsing it; most widgets have nothing to drop).
    """
    item_css = selectors.get("item")
    if not item_css:
        return []
    if root is None:
        root = parse_html(html, headers_encoding)
    if root is None:
        return []
    nodes = select_elements(root, item_css)
    if keep_tree and any(_HIDDEN_IN_ITEM(node) for node in nodes):
        root = deepcopy(root)
        nodes = select_elements(root, item_css)
    base = base_url(root, url)
    rows: list[dict] = []
    for node in nodes:
        for hidden in _HIDDEN_IN_ITEM(node):
            hidden.drop_tree()  # never part of a headline or text (the tail text stays)
        shown = " ".join(select_texts(node, selectors["time"])) if selectors.get("time") else ""
        head_text, head_el = _item_text(node, selectors.get("headline"))
        body_text, body_el = _item_text(node, selectors.get("text"))
        headline = head_text
        if head_el is not None:
            bold = _bold_lead(head_el)
            if bold and len(bold) < len(head_text):
                # "<p><strong>Headline.</strong> More words</p>": the rest belongs to the text
                rest = head_text[len(bold):].strip() if head_text.startswith(bold) else ""
                headline = bold
                body_text = clean_text(f"{rest} {body_text}")
        if not headline and body_text:
            bold = _bold_lead(body_el) if body_el is not None else None
            if bold and body_text.startswith(bold):
                headline, body_text = bold, body_text[len(bold):].strip()
            else:
                headline, body_text = split_headline(body_text)
        if headline and body_text[:len(headline)].casefold() == headline.casefold():
            body_text = body_text[len(headline):].lstrip(" .:—–-")  # selectors that overlap
        if not headline and not body_text:
            continue
        link = _first(node, selectors.get("link"))
        if isinstance(link, etree._Element):
            link = link.get("href")
        href = clean_text(str(link)) if link else ""
        rows.append({
            "headline": headline,
            "text": body_text,
            "time_shown": clean_text(shown),
            "url": join_url(base, href) if href and not href.startswith(("javascript:", "#")) else None,
        })
    published = resolve_feed_dates([parse_clock(r["time_shown"]) for r in rows], timezone, page_time)
    for row, when in zip(rows, published, strict=True):
        row["published"] = when
    return rows


def snippet_fingerprint(site: str, headline: str, text: str) -> str:
    """sha256 hex of the site and the normalised headline + text: one value per distinct snippet."""
    data = f"{site.strip().lower()}\n{hash_normalize(f'{headline} {text}')}"
    return hashlib.sha256(data.encode("utf-8")).hexdigest()
