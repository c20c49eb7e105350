"""Record every crawl as a ``crawl_runs`` document: who started it, when, how it ended, its stats.

The document is inserted when the spider opens (``outcome: "running"``) and completed when it
closes, with the Scrapy stats (keys made storable: MongoDB forbids ``.`` and a leading ``$``) and
a short ``summary`` of the counters people read first. The run id comes from ``NEWSMON_RUN_ID``
when a parent process (the scheduler, ``newsmon crawl``) chose it, so it can find the document.
"""

from __future__ import annotations

import logging
import os
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from pipelines.storage.config import StoreConfig
from pipelines.store import SCHEMA_VERSION

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

    from pipelines.storage.base import Store

__all__ = ["CrawlRunRecorder", "outcome_for", "storable_stats", "summarize"]

logger = logging.getLogger(__name__)

_OUTCOMES = {
    "finished": "finished",
    "closespider_timeout": "timed_out",
    "shutdown": "killed",
    "cancelled": "killed",
}


def outcome_for(reason: str) -> str:
    """Map Scrapy's close reason to a crawl outcome (finished, timed_out, killed, failed)."""
    return _OUTCOMES.get(reason, "finished" if reason.startswith("closespider_") else "failed")


def storable_stats(stats: dict[str, Any]) -> dict[str, Any]:
    """Stats with keys a document store accepts and values it can encode."""
    out: dict[str, Any] = {}
    for key, value in stats.items():
        key = key.replace(".", "_").lstrip("$") or "_"
        if isinstance(value, datetime):
            out[key] = value if value.tzinfo else value.replace(tzinfo=UTC)
        elif isinstance(value, (int, float, str, bool)) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out


def _sum(stats: dict[str, Any], prefix: str) -> int:
    return sum(v for k, v in stats.items() if k.startswith(prefix) and isinstance(v, int))


def summarize(stats: dict[str, Any]) -> dict[str, int]:
    """The counters of a crawl that a person reads first."""
    get = lambda key: int(stats.get(key, 0) or 0)  # noqa: E731
    return {
        "pages": get("response_received_count"),
        "articles_new": get("newsmon/store/articles/inserted"),
        "articles_updated": get("newsmon/store/articles/updated"),
        "articles_unchanged": get("newsmon/store/articles/unchanged"),
        "articles_skipped_known": get("newsmon/incremental/skipped_known"),
        "not_modified": _sum(stats, "newsmon/incremental/not_modified/"),
        "snippets_new": get("newsmon/store/feed_snippets/inserted"),
        "snippets_seen_again": get("newsmon/store/feed_snippets/updated")
        + get("newsmon/store/feed_snippets/unchanged"),
        "store_failed": get("newsmon/store/articles/failed") + get("newsmon/store/feed_snippets/failed"),
        "duplicates_exact": get("newsmon/dedupe/exact_duplicate"),
        "duplicates_near": get("newsmon/dedupe/near_duplicate"),
        "revisions": get("newsmon/dedupe/revision"),
        "snippets_corrected": get("newsmon/dedupe/snippets/revision"),
        "topic_flags_new": get("newsmon/topic_flags/new"),
        "dropped": _sum(stats, "newsmon/drop/"),
        "not_articles": _sum(stats, "newsmon/pages/not_article/"),
        "errors": _sum(stats, "newsmon/errors/"),
    }


class CrawlRunRecorder:
    """Scrapy extension writing the ``crawl_runs`` document of this crawl."""

    def __init__(self, crawler: Crawler, config: StoreConfig, trigger: str) -> None:
        self.crawler = crawler
        self.config = config
        self.trigger = trigger
        self.run_id = os.environ.get("NEWSMON_RUN_ID") or uuid.uuid4().hex
        self.store: Store | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        settings = crawler.settings
        if not settings.getbool("CRAWL_RUNS_ENABLED", True) or not settings.getbool("STORE_ENABLED", True):
            raise NotConfigured
        recorder = cls(crawler, StoreConfig.from_settings(settings),
                       os.environ.get("NEWSMON_RUN_TRIGGER") or settings.get("NEWSMON_RUN_TRIGGER", "manual"))
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    async def spider_opened(self, spider: Spider) -> None:
        self.crawler.stats.set_value("newsmon/run_id", self.run_id)
        run = {
            "_id": self.run_id,
            "schema_version": SCHEMA_VERSION,
            "site": spider.name,
            "trigger": self.trigger,
            "started_at": datetime.now(UTC),
            "finished_at": None,
            "outcome": "running",
            "pid": os.getpid(),
            "args": {k: str(v) for k, v in getattr(spider, "limits", {}).__dict__.items() if v is not None}
            if hasattr(spider, "limits") else {},
        }

        def insert() -> None:
            self.store = self.config.create()
            self.store.open()
            # A parent (the scheduler) may have recorded the run already, to be able to record
            # its outcome even when this process never gets this far.
            if any(self.store.find("crawl_runs", {"_id": self.run_id}, limit=1)):
                self.store.update_run(self.run_id, {k: v for k, v in run.items() if k not in ("_id", "trigger")})
            else:
                self.store.insert_run(run)

        await self._in_thread(insert, "record the start of")

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.store is None:
            return
        stats = dict(self.crawler.stats.get_stats())
        fields = {
            "finished_at": datetime.now(UTC),
            "outcome": outcome_for(reason),
            "finish_reason": reason,
            "summary": summarize(stats),
            "stats": storable_stats(stats),
        }
        store = self.store

        def update() -> None:
            try:
                store.update_run(self.run_id, fields)
            finally:
                store.close()

        await self._in_thread(update, "record the end of")

    async def _in_thread(self, func: Any, what: str) -> None:
        """Run a blocking store call off the reactor; a failure is logged, never fatal to the crawl."""
        try:
            await maybe_deferred_to_future(deferToThread(func))
        except Exception as exc:  # the crawl's data matters more than its run record
            logger.error("Could not %s crawl run %s: %s", what, self.run_id, exc)
