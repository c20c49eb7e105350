"""Parse a page once: decode, build the lxml tree, find its base URL."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import numpy as np
from lxml import etree
from lxml.html import (
    HtmlComment,
    HtmlElement,
    HtmlEntity,
    HTMLParser,
    HtmlProcessingInstruction,
    document_fromstring,
)

from .encoding import decode_html

__all__ = ["base_url", "join_url", "parse_html", "strip_not_xml"]

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
# Characters lxml refuses in a text node it is given later ("All strings must be XML compatible"):
# control characters but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF. Removed before parsing.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The same characters as UTF-16 code units, for a vectorised look before the regex: scanning a
# 126,000-character page costs the regex ~390 us whether or not it finds one, the look about half
# (UTF-16 encoding is near a copy; a non-BMP character shows as a surrogate pair and sends the
# page to the regex, which is only slower, never wrong).
_NOT_XML_UNITS = np.zeros(0x10000, dtype=bool)
_NOT_XML_UNITS[[c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)]] = True
_NOT_XML_UNITS[0xD800:0xE000] = True
_NOT_XML_UNITS[0xFFFE:] = True
_NOT_XML_BYTES = bytes(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D))
# Tags that only lay a page out; removed when a page nests too deeply for the parser.
_WRAPPERS = re.compile(r"</?(?:div|span|section|font|center|table|tbody|thead|tr|td|th|ul|ol|li|dl|dd|"
                       r"dt|b|i|u|em|strong|small|big|header|footer|nav|aside|form|label)\b[^>]*>",
                       re.IGNORECASE)
_PARSER = HTMLParser(remove_comments=False, remove_pis=True, default_doctype=False)
# lxml.html picks each element's class in Python, every time lxml makes a Python object for a
# node (400,000 times over the readability set, in newsmon's walks and trafilatura's: 6% of the
# extraction time); this lookup runs in C. It gives <form>, <input>, <select>... the plain
# HtmlElement class: nothing here uses the form classes' extra methods.
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity))


def strip_not_xml(text: str) -> str:
    """``text`` without the characters lxml refuses (``_NOT_XML``); the very string if it has none."""
    if text.isascii():  # O(1) in CPython; then the bytes are the characters, and only controls can be
        raw = text.encode("ascii")
        clean = len(raw.translate(None, _NOT_XML_BYTES)) == len(raw)
    else:
        units = np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype="<u2")
        clean = not _NOT_XML_UNITS[units].any()
    return text if clean else _NOT_XML.sub("", text)


def parse_html(html: str | bytes, headers_encoding: str | None = None) -> HtmlElement | None:
    """The document's root element, or None for an empty or unparseable page."""
    text = decode_html(html, headers_encoding)
    text = strip_not_xml(_XML_DECL.sub("", text, count=1))
    if not text.strip():
        return None
    try:
        root = document_fromstring(text, parser=_PARSER)
        if any(e.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT for e in _PARSER.error_log):
            # libxml2 stops at 256 levels of nesting and drops everything deeper (5,000 nested
            # <div>s lose the whole article): parse again without the layout wrappers.
            root = document_fromstring(_WRAPPERS.sub("", text), parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None
    return root


def join_url(base: str, href: str) -> str | None:
    """``href`` resolved against ``base``; None for a link that is not a URL ("http://[bad/")."""
    try:
        return urljoin(base, href)
    except ValueError:  # urllib refuses malformed hosts and ports
        return None


def base_url(root: HtmlElement, url: str) -> str:
    """``url`` resolved against the page's ``<base href>``, if any (and if it is a URL)."""
    for base in root.iter("base"):
        href = base.get("href")
        if href:
            return join_url(url, href.strip()) or url
    return url
