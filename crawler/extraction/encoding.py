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
    """Return ``html`` as text; bytes are decoded by header charset, BOM, ``<meta>`` or detection.

    Bytes that are valid, non-ASCII UTF-8 are UTF-8 whatever is declared (see below). A declared
    charset under which most non-ASCII characters come out as U+FFFD is wrong too: the bytes are
    re-detected."""
    if isinstance(html, str):
        return html
    data = bytes(html)
    if not data.isascii():
        try:
            # valid multi-byte UTF-8 over a whole page is UTF-8, whatever the header or <meta>
            # say: text in a legacy charset (cp1251, GBK, Shift_JIS, Latin-1) practically never
            # forms valid UTF-8 sequences, while pages re-saved as UTF-8 keep their old <meta>
            return data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            pass
    content_type = None
    if headers_encoding:
        try:
            codecs.lookup(headers_encoding)
        except LookupError:
            headers_encoding = None
        else:
            content_type = f"text/html; charset={headers_encoding}"
    _, text = html_to_unicode(content_type, data, auto_detect_fun=_detect)
    if _mostly_replaced(text):
        # The declared charset (header or <meta>) is wrong: most non-ASCII bytes did not decode.
        best = from_bytes(data[:65536]).best()
        if best is not None and best.encoding:
            redetected = data.decode(best.encoding, errors="replace")
            if redetected.count("\ufffd") < text.count("\ufffd"):
                return redetected
    return text


def _mostly_replaced(text: str) -> bool:
    """Whether U+FFFD (undecodable bytes) makes up most of the text's non-ASCII characters."""
    replaced = text.count("\ufffd")
    if replaced < 8:
        return False
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    return replaced > non_ascii / 2
