"""Clean and validate items before they are stored.

Articles: text in Unicode NFC with whitespace collapsed per paragraph, dates as aware UTC, the
canonical URL, authors deduplicated, content hash and word count computed. An article without a
title or body, or with a body shorter than the profile's ``min_body_chars``, is dropped with a
counted reason (``newsmon/drop/<reason>``). Snippets: the same text cleaning, a fingerprint.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured

from crawler.items import Article, FeedSnippet
from pipelines.urls import canonical_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

__all__ = ["CleanPipeline", "clean_text", "to_utc"]

logger = logging.getLogger(__name__)

_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def clean_text(text: str | None) -> str:
    """NFC, runs of spaces folded to one, blank lines folded, ends stripped."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).replace("\x00", "")
    paragraphs = (_SPACES.sub(" ", p).strip() for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


def to_utc(value: datetime | None) -> datetime | None:
    """Aware UTC; a naive datetime is taken to be UTC already (extraction resolves zones)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class CleanPipeline:
    """Normalize item fields and drop what cannot be a useful document."""

    def __init__(self, crawler: Crawler, min_body_chars: int | None) -> None:
        self.crawler = crawler
        self.min_body_override = min_body_chars

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CleanPipeline:
        if not crawler.settings.getbool("CLEAN_ENABLED", True):
            raise NotConfigured("CLEAN_ENABLED is off")
        override = crawler.settings.get("CLEAN_MIN_BODY_CHARS")
        return cls(crawler, int(override) if override not in (None, "") else None)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Article):
            return self._article(item)
        if isinstance(item, FeedSnippet):
            return self._snippet(item)
        return item

    def _min_body_chars(self) -> int:
        if self.min_body_override is not None:
            return self.min_body_override
        profile = getattr(self.crawler.spider, "profile", None)
        return profile.min_body_chars if profile is not None else 0

    def _drop(self, reason: str, item: Any) -> DropItem:
        self.crawler.stats.inc_value(f"newsmon/drop/{reason}")
        return DropItem(f"{reason}: {ItemAdapter(item).get('url') or ItemAdapter(item).get('headline')}")

    def _article(self, item: Article) -> Article:
        from crawler.extraction import content_hash, word_count

        item.title = clean_text(item.title).replace("\n\n", " ")
        item.body = clean_text(item.body)
        if not item.title:
            raise self._drop("no_title", item)
        if not item.body:
            raise self._drop("no_body", item)
        if len(item.body) < self._min_body_chars():
            raise self._drop("body_too_short", item)
        item.url = canonical_url(item.url)
        item.summary = clean_text(item.summary) or None
        item.image_caption = clean_text(item.image_caption) or None
        item.image_credit = clean_text(item.image_credit) or None
        item.authors = list(dict.fromkeys(a for a in (clean_text(x) for x in item.authors) if a))
        item.tags = list(dict.fromkeys(t for t in (clean_text(x) for x in item.tags) if t))
        item.published = to_utc(item.published)
        item.modified = to_utc(item.modified)
        item.fetched_at = to_utc(item.fetched_at) or datetime.now(UTC)
        item.word_count = word_count(item.body)
        item.content_hash = content_hash(item.title, item.body)
        self.crawler.stats.inc_value("newsmon/items/article")
        return item

    def _snippet(self, item: FeedSnippet) -> FeedSnippet:
        from crawler.extraction import snippet_fingerprint

        item.headline = clean_text(item.headline).replace("\n\n", " ")
        item.text = clean_text(item.text)
        if not (item.headline or item.text):
            raise self._drop("empty_snippet", item)
        if item.url:
            item.url = canonical_url(item.url)
        item.published = to_utc(item.published)
        item.fetched_at = to_utc(item.fetched_at) or datetime.now(UTC)
        item.fingerprint = snippet_fingerprint(item.site, item.headline, item.text)
        self.crawler.stats.inc_value("newsmon/items/snippet")
        return item
