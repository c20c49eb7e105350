"""Write articles and News Feed snippets to the store in bulk, off the reactor thread.

Items are buffered per collection and written as one bulk upsert when a buffer reaches
``STORE_BATCH_SIZE``, when it is older than ``STORE_FLUSH_SECONDS`` and when the spider closes.
Every store call runs on one dedicated worker thread (the store is not thread-safe, and one
writer keeps batches in order); the reactor only awaits the result. A batch the store refuses
as a whole (server down) is retried once, then written to a JSON-lines spool file under
``NEWSMON_DATA_DIR/spool/`` and counted, so nothing is lost. What each document did is counted
as ``newsmon/store/<collection>/<inserted|updated|unchanged|failed>``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from crawler.errors import StorageError
from crawler.items import Article, FeedSnippet
from pipelines.spool import write_spool_file
from pipelines.dedupe import DECISIONS, DedupeConfig, Deduper, apply_plan
from pipelines.storage.config import StoreConfig
from pipelines.worker import BlockingWorker

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from pipelines.storage.base import Store, WriteSummary

__all__ = ["SCHEMA_VERSION", "StorePipeline", "article_document", "article_id", "snippet_document"]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1  # bumped on any incompatible change of the stored documents (README, "Schema")


def article_id(canonical: str) -> str:
    """The stable key of an article: a hash of its canonical URL."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def article_document(item: Article) -> dict[str, Any]:
    doc = ItemAdapter(item).asdict()
    doc["_id"] = article_id(doc["url"])
    doc["schema_version"] = SCHEMA_VERSION
    return doc


def snippet_document(item: FeedSnippet) -> dict[str, Any]:
    doc = ItemAdapter(item).asdict()
    doc["_id"] = doc.pop("fingerprint")
    doc["schema_version"] = SCHEMA_VERSION
    return doc


class StorePipeline:
    """Buffer items and upsert them in batches through the storage interface."""

    COLLECTIONS = {Article: "articles", FeedSnippet: "feed_snippets"}

    def __init__(self, crawler: Crawler, config: StoreConfig, batch_size: int,
                 flush_seconds: float, deduper: Deduper | None = None) -> None:
        self.crawler = crawler
        self.deduper = deduper  # decides each batch against the store (pipelines/dedupe.py)
        self.config = config
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.store: Store | None = None
        self._buffers: dict[str, list[dict[str, Any]]] = {"articles": [], "feed_snippets": []}
        self._oldest: dict[str, float] = {}
        self._worker = BlockingWorker("newsmon-store")
        self._timer: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        if not settings.getbool("STORE_ENABLED", True):
            raise NotConfigured("STORE_ENABLED is off")
        batch_size = settings.getint("STORE_BATCH_SIZE", 200)
        flush_seconds = settings.getfloat("STORE_FLUSH_SECONDS", 2.0)
        if batch_size < 1 or flush_seconds <= 0:
            raise NotConfigured("STORE_BATCH_SIZE must be >= 1 and STORE_FLUSH_SECONDS > 0")
        dedupe = DedupeConfig.from_settings(settings)
        deduper = Deduper(dedupe) if dedupe.enabled else None
        return cls(crawler, StoreConfig.from_settings(settings), batch_size, flush_seconds, deduper)

    # --- lifecycle -------------------------------------------------------------------------------

    async def open_spider(self) -> None:
        from twisted.internet import reactor

        self._worker.start()
        self.store = self.config.create()
        try:
            await self._worker.run(self.store.open)
        except BaseException:
            # Scrapy still calls close_spider after a failed open: nothing is left to close.
            self.store = None
            self._worker.stop()
            raise
        logger.info("Storing items in %s", self.store.describe())
        self._timer = task.LoopingCall(self._flush_aged)
        self._timer.clock = reactor  # type: ignore[assignment]
        self._timer.start(self.flush_seconds, now=False)

    async def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        try:
            for collection in self._buffers:
                await self._flush(collection)
        finally:
            if self.store is not None and self._worker.running:
                await self._worker.run(self.store.close)
            self._worker.stop()

    # --- items -----------------------------------------------------------------------------------

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Article):
            collection, doc = "articles", article_document(item)
        elif isinstance(item, FeedSnippet):
            collection, doc = "feed_snippets", snippet_document(item)
        else:
            return item
        buffer = self._buffers[collection]
        if not buffer:
            self._oldest[collection] = time.monotonic()
        buffer.append(doc)
        if len(buffer) >= self.batch_size:
            await self._flush(collection)
        return item

    def _flush_aged(self) -> Any:
        now = time.monotonic()
        due = [c for c, buf in self._buffers.items()
               if buf and now - self._oldest.get(c, now) >= self.flush_seconds]
        if not due:
            return None
        from twisted.internet.defer import DeferredList

        return DeferredList([deferred_from_coro(self._flush(c)) for c in due])

    async def _flush(self, collection: str) -> None:
        batch, self._buffers[collection] = self._buffers[collection], []
        if not batch or self.store is None:
            return
        summary: WriteSummary | None = None
        decisions: dict[str, int] = {}
        for attempt in (1, 2):
            try:
                summary, decisions = await self._worker.run(self._write_batch, collection, batch)
                break
            except StorageError as exc:
                logger.error("Bulk write of %d %s failed (attempt %d): %s",
                             len(batch), collection, attempt, exc)
        if summary is None:
            path = await self._worker.run(write_spool_file, self.config.spool_dir, collection, batch)
            self._inc(f"store/{collection}/spooled", len(batch))
            logger.error("Kept %d %s in %s; write them later with `newsmon import-spool`", len(batch),
                         collection, path)
            return
        for outcome in ("inserted", "updated", "unchanged", "failed"):
            self._inc(f"store/{collection}/{outcome}", getattr(summary, outcome))
        prefix = "dedupe" if collection == "articles" else "dedupe/snippets"
        for decision in DECISIONS:
            self._inc(f"{prefix}/{decision}", decisions.get(decision, 0))
        for key, message in summary.errors[:20]:
            logger.warning("Could not store %s %s: %s", collection, key, message)

    def _write_batch(self, collection: str,
                     batch: list[dict[str, Any]]) -> tuple[WriteSummary, dict[str, int]]:
        """Decide the batch against the store, then write it (on the store thread); the write
        summary and the dedupe decisions, counted by the caller on the reactor thread."""
        assert self.store is not None
        if self.deduper is None:
            write = self.store.upsert_articles if collection == "articles" else self.store.upsert_snippets
            return write(batch), {}
        if collection == "articles":
            plan = self.deduper.decide_articles(self.store, batch)
        else:
            plan = self.deduper.decide_snippets(self.store, batch)
        return apply_plan(self.store, collection, plan), dict(plan.decisions)

    # --- helpers ---------------------------------------------------------------------------------

    def _inc(self, key: str, count: int) -> None:
        if count:
            self.crawler.stats.inc_value(f"newsmon/{key}", count)
