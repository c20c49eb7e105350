"""Flag articles and News Feed snippets that match a configured topic; store and announce flags.

For each item the matcher scores every topic (``crawler/topics``, ``TOPICS_FILE``) over the
item's title (title/headline), lead (summary / snippet text) and body; the item's ``topics``
becomes ``[{slug, score, terms}]`` for the topics at or above their ``min_score``, counted as
``newsmon/topics/<slug>``. Every match with a score goes to a buffer that is written to
``topic_flags`` (``pipelines.storage.flags``) in batches on one dedicated worker thread, like the
store pipeline: when ``TOPICS_BATCH_SIZE`` flags wait, when the oldest is ``TOPICS_FLUSH_SECONDS``
old and when the spider closes. The flags the store reports as new (first time over the
threshold) go to the alert sinks (``pipelines.alerts``), so each (item, topic) is announced once
across crawls. A batch the flag store refuses is logged and counted
(``newsmon/topic_flags/failed``); the item is flagged again, and alerted then, at its next sighting.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from crawler.errors import StorageError
from crawler.items import Article, FeedSnippet
from crawler.topics.config import load_topics
from crawler.topics.matcher import TopicMatch, TopicMatcher, item_fields
from pipelines.alerts import AlertConfig, AlertSink, build_sinks
from pipelines.storage.config import StoreConfig
from pipelines.worker import BlockingWorker
from pipelines.storage.flags import FlagStore, open_flag_store
from pipelines.store import article_id

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

__all__ = ["TopicsPipeline", "flag_document"]

logger = logging.getLogger(__name__)


def flag_document(item: Article | FeedSnippet, match: TopicMatch) -> dict[str, Any]:
    """What ``FlagStore.record`` takes for one (item, topic) match."""
    if isinstance(item, Article):
        kind, item_id, title = "article", article_id(item.url), item.title
    else:
        kind, item_id, title = "snippet", item.fingerprint, item.headline
    return {
        "item_id": item_id, "kind": kind, "site": item.site, "topic": match.slug,
        "score": match.score, "threshold": match.threshold,
        "terms": [h.as_dict() for h in match.hits],
        "title": title, "url": item.url, "published": item.published,
    }


class TopicsPipeline:
    """Match topics, set ``item.topics``, record flags in batches and alert on new ones."""

    def __init__(self, crawler: Crawler, matcher: TopicMatcher, store_config: StoreConfig,
                 alert_config: AlertConfig, batch_size: int, flush_seconds: float) -> None:
        self.crawler = crawler
        self.matcher = matcher
        self.store_config = store_config
        self.alert_config = alert_config
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.store: FlagStore | None = None
        self.sinks: list[AlertSink] = []
        self._buffer: list[dict[str, Any]] = []
        self._oldest = 0.0
        self._worker = BlockingWorker("newsmon-topic-flags")
        self._timer: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TopicsPipeline:
        settings = crawler.settings
        if not settings.getbool("TOPICS_ENABLED", True):
            raise NotConfigured("TOPICS_ENABLED is off")
        batch_size = settings.getint("TOPICS_BATCH_SIZE", 100)
        flush_seconds = settings.getfloat("TOPICS_FLUSH_SECONDS", 2.0)
        if batch_size < 1 or flush_seconds <= 0:
            raise NotConfigured("TOPICS_BATCH_SIZE must be >= 1 and TOPICS_FLUSH_SECONDS > 0")
        topics = load_topics(settings.get("TOPICS_FILE"))  # a bad file stops the crawl before it starts
        store_config = StoreConfig.from_settings(settings)
        alert_config = AlertConfig.from_settings(settings, store_config.data_dir)
        return cls(crawler, TopicMatcher(topics), store_config, alert_config, batch_size, flush_seconds)

    # --- lifecycle -------------------------------------------------------------------------------

    async def open_spider(self) -> None:
        from twisted.internet import reactor

        self._worker.start()
        self.store = open_flag_store(self.store_config)
        try:
            await self._worker.run(self.store.open)
        except BaseException:
            # Scrapy still calls close_spider after a failed open: nothing is left to close.
            self.store = None
            self._worker.stop()
            raise
        self.sinks = build_sinks(self.alert_config, self._count_alert)
        for sink in self.sinks:
            sink.open()
        logger.info("Matching topics %s; flags in %s; alerts to %s",
                    ", ".join(t.slug for t in self.matcher.topics), self.store.describe(),
                    ", ".join(s.name for s in self.sinks) or "no sink")
        self._timer = task.LoopingCall(self._flush_aged)
        self._timer.clock = reactor  # type: ignore[assignment]
        self._timer.start(self.flush_seconds, now=False)

    async def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        try:
            await self._flush()
            for sink in self.sinks:
                await sink.close()
        finally:
            if self.store is not None and self._worker.running:
                await self._worker.run(self.store.close)
            self._worker.stop()

    # --- items -----------------------------------------------------------------------------------

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, (Article, FeedSnippet)):
            return item
        adapter = ItemAdapter(item)
        matches = [m for m in self.matcher.match(item_fields(adapter)) if m.score > 0 and not m.excluded_by]
        flagged = [m for m in matches if m.flagged]
        adapter["topics"] = [m.summary() for m in flagged]
        for m in flagged:
            self.crawler.stats.inc_value(f"newsmon/topics/{m.slug}")
            logger.debug("%s flagged %s (score %.1f: %s)", m.slug, item.url, m.score, m.terms)
        if matches:
            if not self._buffer:
                self._oldest = time.monotonic()
            # Below-threshold matches only refresh last_score of flags that exist already.
            self._buffer.extend(flag_document(item, m) for m in matches)
            if len(self._buffer) >= self.batch_size:
                await self._flush()
        return item

    def _flush_aged(self) -> Any:
        if self._buffer and time.monotonic() - self._oldest >= self.flush_seconds:
            return deferred_from_coro(self._flush())
        return None

    async def _flush(self) -> None:
        batch, self._buffer = self._buffer, []
        if not batch or self.store is None:
            return
        try:
            new = await self._worker.run(self.store.record, batch)
        except StorageError as exc:
            logger.error("Could not record %d topic flags: %s", len(batch), exc)
            self.crawler.stats.inc_value("newsmon/topic_flags/failed", len(batch))
            return
        if not new:
            return
        self.crawler.stats.inc_value("newsmon/topic_flags/new", len(new))
        for sink in self.sinks:
            sink.send(new)

    # --- helpers ---------------------------------------------------------------------------------

    def _count_alert(self, sink: str, outcome: str, n: int) -> None:
        if n:
            self.crawler.stats.inc_value(f"newsmon/alerts/{sink}/{outcome}", n)

