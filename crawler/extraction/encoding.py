"""Decode fetched bytes to text: HTTP header charset, then the page's own declaration, then detection."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes
from w3lib.encoding import html_to_unicode

__all__ = ["decode_html"]


def _detect(data: bytes) -> str | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    best = from_bytes(data[:65536]).best()
    return best.encoding if best is not None else None


def decode_html(html: str | bytes, headers_encoding: str | None = None) -> str:
    """Return ``html`` as text; bytes are decoded by header charset, BOM, ``<meta>`` or detection."""
    if isinstance(html, str):
        return html
    content_type = None
    if headers_encoding:
        try:
            codecs.lookup(headers_encoding)
        except LookupError:
            headers_encoding = None
        else:
            content_type = f"text/html; charset={headers_encoding}"
    _, text = html_to_unicode(content_type, bytes(html), auto_detect_fun=_detect)
    return text
