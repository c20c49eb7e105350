"""Text normalisation shared by the extractors, plus the content hash and word count."""

from __future__ import annotations

import functools
import hashlib
import html
import re
import unicodedata

__all__ = [
    "clean_text",
    "content_hash",
    "hash_normalize",
    "word_count",
]

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# CJK scripts write no spaces: each ideograph, kana or hangul syllable counts as a word
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_WORD = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])\w)+(?:['’\-](?:(?![{_CJK}])\w)+)*")
# the same words in a text without CJK characters (most pages), at half the cost: the lookahead
# per character is what makes ``_WORD`` slow
_WORD_NO_CJK = re.compile(r"\w+(?:['’\-]\w+)*")
_HAS_CJK = re.compile(f"[{_CJK}]")


def clean_text(text: str | None) -> str:
    """Decode leftover entities, NFC-normalise, drop zero-width chars and collapse whitespace."""
    if not text:
        return ""
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii():  # ASCII holds no zero-width character and is its own NFC form
        text = unicodedata.normalize("NFC", _ZERO_WIDTH.sub("", text))
    # split() cuts at exactly the characters ``\s`` matches: the same as re.sub(r"\s+", " ").strip(),
    # at a fraction of the cost (clean_text runs on every block of every candidate)
    return " ".join(text.split())


def hash_normalize(text: str) -> str:
    """NFKC + casefold, punctuation/symbols dropped, whitespace collapsed: the form that is hashed."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    # A page has ~10k characters but a few dozen distinct ones: each distinct one is classified
    # once (and remembered), then str.translate blanks them all in C and split() collapses the
    # runs (it splits on exactly the characters ``\s`` matches).
    table = _ASCII_BLANKS if text.isascii() else {ord(ch): " " for ch in set(text) if _blank(ch)}
    return " ".join(text.translate(table).split())


@functools.lru_cache(maxsize=1 << 16)  # bounded: hostile pages may use any of 1.1M code points
def _blank(ch: str) -> bool:
    """Whether ``hash_normalize`` blanks ``ch``: punctuation, symbol, separator, other, space."""
    return unicodedata.category(ch)[0] in "PSZC" or ch.isspace()


_ASCII_BLANKS = {code: " " for code in range(128) if _blank(chr(code))}


def content_hash(title: str, body: str) -> str:
    """sha256 hex of the normalised title and body (insensitive to case, punctuation, spacing)."""
    data = hash_normalize(title) + "\n" + hash_normalize(body)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=256)  # the body choice counts one candidate's words several times
def word_count(body: str) -> int:
    """Number of words in ``body`` (runs of letters/digits, with inner apostrophes and hyphens)."""
    if not body:
        return 0
    return len((_WORD if _HAS_CJK.search(body) else _WORD_NO_CJK).findall(body))
