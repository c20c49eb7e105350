"""Topics: the third stage of the item path (clean → identity → **topics** → store).

For each item identity decided as ``new`` or a ``revision`` the matcher scores every topic
(``crawler/topics``, ``TOPICS_FILE``) over the item's title (title/headline), lead (summary /
snippet text) and body; ``item.topics`` becomes ``[{slug, score, terms}]`` for the topics at or
above their ``min_score``, counted as ``newsmon/topics/<slug>``. Every match with a score becomes a
flag of the document identity named (``item.doc_id``), handed to the store stage on the item's
ticket: the store writes the flags after the document, so every flag names a stored document, and
alerts the flags that are new. A duplicate, an unchanged item or a journaled one is not matched:
it raises no new flag and no alert (``newsmon/topics/skipped/<why>``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured

from crawler.checks import check_setting
from crawler.items import Article, FeedSnippet, precomputed
from crawler.timing import cpu_timer
from crawler.topics.config import load_topics
from crawler.topics.matcher import TopicMatch, TopicMatcher, item_fields
from pipelines.identity import Ticket, article_id, ticket_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

__all__ = ["TopicsPipeline", "flag_document"]

logger = logging.getLogger(__name__)

_UNKNOWN = object()  # a matcher given directly: no worker's matches are taken for it


def flag_document(item: Article | FeedSnippet, match: TopicMatch, item_id: str | None = None) -> dict[str, Any]:
    """What ``record_flags`` takes for one (item, topic) match; ``item_id`` is the stored
    document's ``_id`` (identity's ``item.doc_id``)."""
    if isinstance(item, Article):
        kind, title = "article", item.title
        item_id = item_id or article_id(item.url)
    else:
        kind, title = "snippet", item.headline
        item_id = item_id or item.fingerprint
    return {
        "item_id": item_id, "kind": kind, "site": item.site, "topic": match.slug,
        "score": match.score, "threshold": match.threshold,
        "terms": [h.as_dict() for h in match.hits],
        "title": title, "url": item.url, "published": item.published,
    }


class TopicsPipeline:
    """Match topics on new and revised items, set ``item.topics``, hand their flags to store."""

    def __init__(self, crawler: Crawler, matcher: TopicMatcher, source: Any = _UNKNOWN) -> None:
        self.crawler = crawler
        self.matcher = matcher
        # The TOPICS_FILE value the matcher was loaded from: a worker's matches (crawler/workers.py)
        # are used only when made with the same one.
        self.source = source

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TopicsPipeline:
        settings = crawler.settings
        if not check_setting(settings, "TOPICS_ENABLED"):
            raise NotConfigured("TOPICS_ENABLED is off")
        topics = load_topics(settings.get("TOPICS_FILE"))  # checked before the crawl (crawler/checks.py)
        source = settings.get("TOPICS_FILE")
        return cls(crawler, TopicMatcher(topics), tuple(source) if isinstance(source, list) else source)

    def open_spider(self) -> None:
        logger.info("Matching topics %s", ", ".join(t.slug for t in self.matcher.topics))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, (Article, FeedSnippet)):
            return item
        ticket = ticket_of(item)
        if ticket is not None and not ticket.raises_flags:
            # Most items of a crawl (repeated News Feed sightings): a counter, too little work
            # to be worth the CPU timer's two clock reads.
            why = "journaled" if ticket.journaled else ticket.decision
            self.crawler.stats.inc_value(f"newsmon/topics/skipped/{why}")
            return item
        with cpu_timer(self.crawler.stats, "topics"):
            return self._match(item, ticket)

    def _match(self, item: Article | FeedSnippet, ticket: Ticket | None) -> Any:
        adapter = ItemAdapter(item)
        fields = item_fields(adapter)
        pre = precomputed(item)
        if pre is not None and pre.matches is not None and pre.topics_source == self.source \
                and pre.topic_fields == fields:
            found = pre.matches  # the worker matched these very fields with the same topics
        else:
            found = self.matcher.match(fields)
        matches = [m for m in found if m.score > 0 and not m.excluded_by]
        flagged = [m for m in matches if m.flagged]
        adapter["topics"] = [m.summary() for m in flagged]
        for m in flagged:
            self.crawler.stats.inc_value(f"newsmon/topics/{m.slug}")
            logger.debug("%s flagged %s (score %.1f: %s)", m.slug, item.url, m.score, m.terms)
        if ticket is not None:
            # Below-threshold matches only refresh last_score of flags that exist already.
            ticket.flags = [flag_document(item, m, ticket.doc_id) for m in matches]
        return item
