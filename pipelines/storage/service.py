"""The crawl's one store: one client or connection per process, one worker thread, one journal.

Every component of a crawl that reads or writes the store (identity, store pipeline, incremental
middleware, run recorder, journal replay) gets the same ``StoreService`` from
``StoreService.of(crawler)``. It opens the store lazily on the first call, on its own thread, and
tries again on a later call when the server was unreachable (so a crawl that starts while the
store is down journals what it produces, and writes again once the store is back; attempts back
off from ``reopen_seconds`` to a minute). Calls run in
order on one thread (store clients are not thread-safe; one writer keeps batches in order); the
reactor only awaits them. The store is closed when the engine stops, after every component's
``close_spider``/``spider_closed`` work is done.

Counters: ``newsmon/store/open_failed`` (attempts that could not open the store).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from scrapy import signals

from crawler.errors import StorageError
from crawler.timing import cpu_timer
from pipelines.journal import Journal
from pipelines.storage.config import StoreConfig
from pipelines.worker import BlockingWorker

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from pipelines.storage.base import Store

__all__ = ["StoreService"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
_ATTRIBUTE = "_newsmon_store_service"


class StoreService:
    """The store of one crawler, shared by its components."""

    def __init__(self, config: StoreConfig, stats: Any = None, reopen_seconds: float = 5.0) -> None:
        self.config = config
        self.stats = stats
        self.reopen_seconds = reopen_seconds
        self.store: Store = config.create()
        self._worker = BlockingWorker("newsmon-store")
        self._open = False
        self._last_attempt = float("-inf")
        self._backoff = 0.0  # seconds between open attempts while the store is unreachable
        self.ever_opened = False  # whether the store was usable at any moment of the crawl
        self.last_error: str | None = None
        self.journal: Journal | None = None
        self.replay_paths: list = []
        self.replay_items: list[tuple[str, dict[str, Any]]] = []
        self.replay_other: list[tuple[str, dict[str, Any]]] = []
        self._replay_taken = False
        self.replay_done = False  # every replayed item was handed to the item path

    @classmethod
    def of(cls, crawler: Crawler) -> StoreService:
        """The crawler's service, created on first use (from its settings)."""
        service = getattr(crawler, _ATTRIBUTE, None)
        if service is None:
            service = cls(StoreConfig.from_settings(crawler.settings), crawler.stats)
            setattr(crawler, _ATTRIBUTE, service)
            crawler.signals.connect(service._engine_stopped, signal=signals.engine_stopped)
        return service

    # --- calls -----------------------------------------------------------------------------

    async def call(self, func: Callable[..., T], *args: Any) -> T:
        """``func(store, *args)`` on the store thread; ``StorageError`` if the store cannot be
        opened or refuses the call."""
        if not self._worker.running:
            self._worker.start()
        return await self._worker.run(self._in_thread, func, args)

    def _in_thread(self, func: Callable[..., T], args: tuple[Any, ...]) -> T:
        if not self._open:
            now = time.monotonic()
            if now - self._last_attempt < self._backoff and self.last_error:
                raise StorageError(f"store unavailable: {self.last_error}")
            self._last_attempt = now
            try:
                self.store.open()
            except StorageError as exc:
                self.last_error = str(exc)
                # Each attempt holds the store thread for the server-selection timeout: back off
                # (doubling, at most a minute) so an outage costs the crawl little time.
                self._backoff = min(self._backoff * 2, 60.0) if self._backoff else self.reopen_seconds
                if self.stats is not None:
                    self.stats.inc_value("newsmon/store/open_failed")
                raise
            self._open = self.ever_opened = True
            self.last_error = None
            self._backoff = 0.0
        with cpu_timer(self.stats, f"store_thread/{getattr(func, '__name__', 'call')}"):
            return func(self.store, *args)

    def describe(self) -> str:
        return self.store.describe()

    # --- journal ---------------------------------------------------------------------------

    def journal_for(self, site: str) -> Journal:
        if self.journal is None or self.journal.site != site:
            self.journal = Journal(self.config.journal_dir, site)
        return self.journal

    def take_replay(self, site: str) -> None:
        """Read the site's journal once per crawl: items for the start of the crawl, the other
        records for the store pipeline to write when it opens."""
        if self._replay_taken:
            return
        self._replay_taken = True
        from pipelines.journal import read_journal

        journal = self.journal_for(site)
        self.replay_paths = journal.take()
        for path in self.replay_paths:
            for kind, record in read_journal(path):
                target = self.replay_items if kind in ("article", "snippet") else self.replay_other
                target.append((kind, record))
        if self.replay_paths:
            logger.info("Replaying %d journaled items and %d other records of %s from %s",
                        len(self.replay_items), len(self.replay_other), site,
                        ", ".join(p.name for p in self.replay_paths))

    # --- lifecycle -------------------------------------------------------------------------

    async def _engine_stopped(self) -> None:
        await self.close()

    async def close(self) -> None:
        if self.replay_done and self.journal is not None:
            # Every replayed item went through the path by now: stored, or journaled again.
            self.journal.finish(self.replay_paths)
        if not self._worker.running:
            return
        try:
            if self._open:
                await self._worker.run(self.store.close)
        except StorageError as exc:
            logger.warning("Closing %s: %s", self.describe(), exc)
        finally:
            self._open = False
            self._worker.stop()
