"""Parse a page once: decode, build the lxml tree, find its base URL."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from lxml import etree
from lxml.html import HtmlElement, HTMLParser, document_fromstring

from .encoding import decode_html

__all__ = ["base_url", "parse_html"]

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_PARSER = HTMLParser(remove_comments=False, remove_pis=True, default_doctype=False)


def parse_html(html: str | bytes, headers_encoding: str | None = None) -> HtmlElement | None:
    """The document's root element, or None for an empty or unparseable page."""
    text = decode_html(html, headers_encoding)
    text = _XML_DECL.sub("", text, count=1).replace("\x00", "")
    if not text.strip():
        return None
    try:
        root = document_fromstring(text, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None
    return root


def base_url(root: HtmlElement, url: str) -> str:
    """``url`` resolved against the page's ``<base href>``, if any."""
    for base in root.iter("base"):
        href = base.get("href")
        if href:
            return urljoin(url, href.strip())
    return url
