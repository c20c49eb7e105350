"""Pure extraction functions: page HTML in, article fields or News Feed items out.

No Scrapy, I/O or network here; the spider calls these with the response body and the site
profile's selectors and timezone.

    extract_article(html, url, selectors=..., timezone=...)   -> dict of article fields
    extract_news_feed(html, url, selectors=..., timezone=..., page_time=...) -> list of items
    snippet_fingerprint(site, headline, text)                 -> sha256 hex
    content_hash(title, body), word_count(body)
"""

from __future__ import annotations

from .article import extract_article
from .body import split_credit
from .dates import parse_clock, parse_datetime, resolve_feed_dates
from .encoding import decode_html
from .language import detect_language
from .newsfeed import extract_news_feed, snippet_fingerprint, split_headline
from .selectors import InvalidSelector
from .text import clean_text, content_hash, word_count

__all__ = [
    "InvalidSelector",
    "clean_text",
    "content_hash",
    "decode_html",
    "detect_language",
    "extract_article",
    "extract_news_feed",
    "parse_clock",
    "parse_datetime",
    "resolve_feed_dates",
    "snippet_fingerprint",
    "split_credit",
    "split_headline",
    "word_count",
]
