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


# Header charsets that servers send by default whatever the page is in. Text in one of them
# practically never forms valid multi-byte UTF-8 sequences, so bytes that do are UTF-8 and the
# header is wrong (a common misconfiguration: a UTF-8 CMS behind a server defaulting to Latin-1).
_DEFAULT_SINGLE_BYTE = frozenset({"latin_1", "iso8859_1", "cp1252", "ascii"})


def _header_is_wrong(codec: str, data: bytes) -> bool:
    if codecs.lookup(codec).name.replace("-", "_") not in _DEFAULT_SINGLE_BYTE or data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_html(html: str | bytes, headers_encoding: str | None = None) -> str:
    """Return ``html`` as text; bytes are decoded by header charset, BOM, ``<meta>`` or detection.

    A Latin-1/Windows-1252/ASCII header on bytes that are valid, non-ASCII UTF-8 is taken to be
    wrong and ignored (the page's own declaration or detection decide). A declared charset under
    which most non-ASCII characters come out as U+FFFD is wrong too: the bytes are re-detected."""
    if isinstance(html, str):
        return html
    content_type = None
    if headers_encoding:
        try:
            codecs.lookup(headers_encoding)
        except LookupError:
            headers_encoding = None
        else:
            if not _header_is_wrong(headers_encoding, bytes(html)):
                content_type = f"text/html; charset={headers_encoding}"
    data = bytes(html)
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
