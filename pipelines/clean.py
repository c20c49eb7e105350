"""Clean and validate items before they are stored.

Articles: text in Unicode NFC with whitespace collapsed per paragraph, dates as aware UTC, the
canonical URL, authors deduplicated, content hash and word count computed. An article without a
title or body, or with a body shorter than the profile's ``min_body_chars``, is dropped with a
counted reason (``newsmon/drop/<reason>``). Snippets: the same text cleaning, a fingerprint.

Plain text is enforced here, once, whatever the field's source (JSON-LD, OpenGraph, meta, DOM):
title, summary, authors, tags, image caption and credit, snippet headline and text have markup
removed by :func:`plain_text` (tags stripped, ``<script>``/``<style>`` content dropped, entities
decoded once by the HTML parser); the body is, paragraph by paragraph, when a paragraph holds
markup. Every string field loses NULs, other control characters and lone surrogates (which the
stores cannot encode). The body is cut, at a paragraph end when there is one, to
``CLEAN_MAX_BODY_CHARS`` (counted as ``newsmon/clean/body_truncated``). An item that makes
cleaning fail is dropped as ``newsmon/drop/clean_error/<Type>``, never raised into the crawl.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured

from crawler.drops import drop_item
from crawler.items import Article, FeedSnippet, field_names, precomputed
from crawler.timing import cpu_timer
from pipelines.urls import canonical_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

__all__ = [
    "CleanPipeline", "article_hashes", "clean_body", "clean_line", "clean_summary", "clean_text",
    "max_body_chars", "plain_text", "strip_controls", "to_utc",
]

logger = logging.getLogger(__name__)

_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


# C0/C1 controls except tab and newlines, and lone surrogates (JSON-LD "\ud800" decodes to one).
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]")
# Something that looks like markup: a start/end tag, a comment or CDATA. "a < b" is not.
_MARKUP = re.compile(r"""<(?:/?[A-Za-z][A-Za-z0-9:_.-]*(?:\s(?:[^<>"']|"[^"]*"|'[^']*')*)?/?>"""
                     r"|!--|!\[CDATA\[)")
_HIDDEN = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math",
           "head", "select", "textarea")
_BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
    "section", "table", "td", "th", "tr", "ul",
})


def strip_controls(text: str) -> str:
    """``text`` without NULs, other control characters and lone surrogates (tabs, newlines kept)."""
    return _CONTROLS.sub("", text)


def _strip_markup(text: str) -> str:
    from lxml import etree
    from lxml.html import fragment_fromstring

    try:
        root = fragment_fromstring(text, create_parent="div")
    except (etree.ParserError, ValueError):
        return _MARKUP.sub(" ", text)
    for el in list(root.iter(*_HIDDEN)):
        el.drop_tree()  # its tail text stays
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag in _BLOCK:
            el.tail = " " + (el.tail or "")
    return str(root.text_content())


def plain_text(text: str | None) -> str:
    """``text`` as plain text: tags stripped, script/style content dropped, entities decoded once.

    Text without markup is returned as it is (its entities were decoded by extraction already);
    text that still looks like markup after one pass (it was entity-escaped markup) gets another.
    """
    if not text:
        return ""
    text = strip_controls(text)
    for _ in range(3):
        if not _MARKUP.search(text):
            break
        text = _strip_markup(text)
    return text


def clean_text(text: str | None) -> str:
    """NFC, runs of spaces folded to one, blank lines folded, ends stripped."""
    if not text:
        return ""
    text = strip_controls(unicodedata.normalize("NFC", text))
    paragraphs = (_SPACES.sub(" ", p).strip() for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


def to_utc(value: datetime | None) -> datetime | None:
    """Aware UTC; a naive datetime is taken to be UTC already (extraction resolves zones)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def max_body_chars(settings: Any) -> int:
    """``CLEAN_MAX_BODY_CHARS`` through its rule (``crawler.checks``): ``ConfigError`` if bad."""
    from crawler.checks import check_setting

    return int(check_setting(settings, "CLEAN_MAX_BODY_CHARS"))


def clean_line(text: str | None) -> str:
    """One line of plain text (titles, headlines, names)."""
    return " ".join(clean_text(plain_text(text)).split())


def clean_body(body: str, cap: int) -> tuple[str, bool]:
    """(plain-text paragraphs capped at ``cap`` characters, whether it was cut): the body rule,
    called by the clean stage and, for articles, by the extraction worker."""
    if cap and len(body) > 4 * cap:
        body = body[: 4 * cap]  # bound the cleaning work; whitespace folding shrinks it a little
    body = clean_text("\n\n".join(plain_text(p) if _MARKUP.search(p) else p
                                   for p in re.split(r"\n\s*\n", strip_controls(body))))
    if cap and len(body) > cap:
        cut = body.rfind("\n\n", 0, cap + 1)
        return (body[:cut] if cut >= cap // 2 else body[:cap].rstrip()), True
    return body, False


def clean_summary(text: str | None) -> str | None:
    """An article's summary (or image caption) as plain paragraphs, None when empty."""
    return clean_text(plain_text(text)) or None


def article_hashes(title: str, body: str) -> tuple[str, int]:
    """(content hash, word count) of a cleaned title and body."""
    from crawler.extraction import content_hash, word_count

    return content_hash(title, body), word_count(body)


@functools.lru_cache(maxsize=4096)
def _clean_snippet(site: str, headline: str, text: str) -> tuple[str, str, str]:
    """(headline, text, fingerprint) of a scrubbed snippet, once per distinct one: a News Feed
    item is on every page of a crawl (~10 sightings per page, a few dozen distinct texts)."""
    from crawler.extraction import snippet_fingerprint

    headline = clean_line(headline)
    text = clean_text(plain_text(text))
    return headline, text, snippet_fingerprint(site, headline, text)


class CleanPipeline:
    """Normalize item fields and drop what cannot be a useful document."""

    def __init__(self, crawler: Crawler, min_body_chars: int | None, max_body_chars: int = 0) -> None:
        self.crawler = crawler
        self.min_body_override = min_body_chars
        self.max_body_chars = max_body_chars

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CleanPipeline:
        if not crawler.settings.getbool("CLEAN_ENABLED", True):
            raise NotConfigured("CLEAN_ENABLED is off")
        override = crawler.settings.get("CLEAN_MIN_BODY_CHARS")
        return cls(crawler, int(override) if override not in (None, "") else None,
                   max_body_chars(crawler.settings))

    def process_item(self, item: Any) -> Any:
        with cpu_timer(self.crawler.stats, "clean"):
            return self._process(item)

    def _process(self, item: Any) -> Any:
        try:
            if isinstance(item, Article):
                return self._article(item)
            if isinstance(item, FeedSnippet):
                return self._snippet(item)
        except DropItem:
            raise
        except Exception as exc:  # hostile input must not break the crawl: counted, named, logged
            name = type(exc).__name__
            logger.warning("Could not clean %s: %s: %s", ItemAdapter(item).get("url"), name, exc)
            raise drop_item(self.crawler, f"clean_error/{name}", item) from exc
        return item

    def _min_body_chars(self) -> int:
        if self.min_body_override is not None:
            return self.min_body_override
        profile = getattr(self.crawler.spider, "profile", None)
        return profile.min_body_chars if profile is not None else 0

    def _drop(self, reason: str, item: Any) -> DropItem:
        return drop_item(self.crawler, reason, item)

    def _body(self, item: Article) -> str:
        """The cleaned body: the extraction worker's (``crawler/workers.py``) when it cleaned this
        very text, else :func:`clean_body` here; a cut is counted either way."""
        pre = precomputed(item)
        if pre is not None and pre.cap == self.max_body_chars and pre.body_source == item.body:
            body, truncated = pre.body, pre.truncated
        else:
            body, truncated = clean_body(item.body, self.max_body_chars)
        if truncated:
            self.crawler.stats.inc_value("newsmon/clean/body_truncated")
        return body

    _line = staticmethod(clean_line)

    def _scrub(self, item: Article | FeedSnippet) -> None:
        """Every other string field without control characters or lone surrogates (URLs, names)."""
        # The fields straight from the dataclass: ItemAdapter would cost more than the scrubbing.
        for key in field_names(type(item)):
            value = getattr(item, key)
            if isinstance(value, str):
                setattr(item, key, strip_controls(value))
            elif isinstance(value, list) and any(isinstance(v, str) for v in value):
                setattr(item, key, [strip_controls(v) if isinstance(v, str) else v for v in value])

    def _article(self, item: Article) -> Article:
        self._scrub(item)
        item.title = self._line(item.title)
        item.body = self._body(item)
        if not item.title:
            raise self._drop("no_title", item)
        if not item.body:
            raise self._drop("no_body", item)
        if len(item.body) < self._min_body_chars():
            raise self._drop("body_too_short", item)
        item.url = canonical_url(item.url)
        item.summary = clean_summary(item.summary)
        item.image_caption = clean_summary(item.image_caption)
        item.image_credit = self._line(item.image_credit) or None
        item.authors = list(dict.fromkeys(a for a in (self._line(x) for x in item.authors) if a))
        item.tags = list(dict.fromkeys(t for t in (self._line(x) for x in item.tags) if t))
        item.published = to_utc(item.published)
        item.modified = to_utc(item.modified)
        item.fetched_at = to_utc(item.fetched_at) or datetime.now(UTC)
        pre = precomputed(item)
        if pre is not None and pre.title == item.title and pre.body == item.body:
            item.content_hash, item.word_count = pre.content_hash, pre.word_count
        else:
            item.content_hash, item.word_count = article_hashes(item.title, item.body)
        self.crawler.stats.inc_value("newsmon/items/article")
        for name, value in (("date", item.published), ("author", item.authors)):
            if not value:  # field coverage, read by the crawl health monitors (crawler/health.py)
                self.crawler.stats.inc_value(f"newsmon/clean/missing/{name}")
        return item

    def _snippet(self, item: FeedSnippet) -> FeedSnippet:
        self._scrub(item)
        item.headline, item.text, fingerprint = _clean_snippet(item.site, item.headline, item.text)
        if not (item.headline or item.text):
            raise self._drop("empty_snippet", item)
        if item.url:
            item.url = canonical_url(item.url)
        item.published = to_utc(item.published)
        item.fetched_at = to_utc(item.fetched_at) or datetime.now(UTC)
        item.fingerprint = fingerprint
        self.crawler.stats.inc_value("newsmon/items/snippet")
        return item
