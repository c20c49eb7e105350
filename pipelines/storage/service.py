"""The crawl's one store: one client or connection per process, one worker thread, one journal.

Every component of a crawl that reads or writes the store (identity, store pipeline, incremental
middleware, run recorder, journal replay) gets the same ``StoreService`` from
``StoreService.of(crawler)``. It opens the store lazily on the first call, on its own thread, and
tries again on a later call when the server was unreachable (so a crawl that starts while the
store is down journals what it produces, and writes again once the store is back; attempts back
off from ``STORE_UNAVAILABLE_BACKOFF`` to ``STORE_UNAVAILABLE_BACKOFF_MAX``).

The same back-off guards an open store that stops answering (another process holds the SQLite
write lock, the server went away): each call would wait the full busy/server-selection timeout
before failing, so a crawl would advance at one batch per timeout. Once a call fails that way the
circuit opens: calls fail at once (their items go to the journal) for the back-off window; the
first call after it probes the store. A probe that fails doubles the window (capped); one that
succeeds closes the circuit and writing resumes. Calls run in order on one thread (store clients are not thread-safe; one writer keeps batches in order); the
reactor only awaits them. The store is closed when the engine stops, after every component's
``close_spider``/``spider_closed`` work is done.

Counters: ``newsmon/store/open_failed`` (attempts that could not open the store),
``newsmon/store/unavailable`` (calls that reached the store and found it unusable: each waited a
timeout), ``newsmon/store/circuit/<opened|refused|probes|closed>`` (circuit openings, calls
refused without trying while it was open, probes, and recoveries).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from scrapy import signals

from crawler.errors import CircuitOpenError, StorageError
from crawler.timing import cpu_timer
from pipelines.journal import Journal
from pipelines.storage.config import StoreConfig
from pipelines.worker import BlockingWorker

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from pipelines.storage.base import Store

__all__ = ["Circuit", "StoreService", "unavailable"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
_ATTRIBUTE = "_newsmon_store_service"
def unavailable(exc: StorageError) -> bool:
    """Whether ``exc`` says the store could not be used at all (a lock held by another process,
    no reachable server) rather than that it refused this call's data."""
    from pymongo.errors import ConnectionFailure  # AutoReconnect, NetworkTimeout, ServerSelection...

    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionFailure):
            return True
        if isinstance(cause, sqlite3.OperationalError) and any(
                word in str(cause) for word in ("locked", "busy")):
            return True
        cause = cause.__cause__
    return False


class Circuit:
    """When to leave an unusable store alone: closed (calls go through), open (calls refused until
    ``until``), then one probe. Pure state, driven by the caller's clock.

    It opens on the first call found unusable: that call already waited the whole busy/selection
    timeout, so the store was unusable for that long, and any call queued behind it (a read that
    might still succeed) would not tell whether writes can go through.
    """

    def __init__(self, first: float, cap: float) -> None:
        self.first, self.cap = first, cap
        self.is_open = False
        self.window = 0.0
        self.until = float("-inf")
        self.reason = ""
        self.refused = 0  # calls refused since it opened
        self._closed_at = float("-inf")

    def allows(self, now: float) -> bool:
        """Whether a call may try the store now (while open: only once the window is over)."""
        if self.is_open and now < self.until:
            self.refused += 1
            return False
        return True

    def failed(self, now: float, reason: str) -> bool:
        """An unavailable call (the first, or a failed probe); True when this opens the circuit."""
        self.reason = reason
        if self.is_open:  # a failed probe: wait twice as long
            self.window = min(self.window * 2, self.cap)
            self.until = now + self.window
            return False
        # Opening again soon after it closed (a store that answers reads but not writes, as
        # SQLite does while another process holds the write lock) keeps doubling instead of
        # starting over, so a flapping store stays cheap.
        recent = now - self._closed_at < self.window
        self.window = min(self.window * 2, self.cap) if recent else min(self.first, self.cap)
        self.is_open, self.until, self.refused = True, now + self.window, 0
        return True

    def succeeded(self, now: float) -> None:
        """A probe found the store usable."""
        self.is_open, self._closed_at = False, now


class StoreService:
    """The store of one crawler, shared by its components."""

    def __init__(self, config: StoreConfig, stats: Any = None, reopen_seconds: float = 5.0,
                 max_backoff: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.stats = stats
        self._clock = clock  # injectable: tests step through the windows without sleeping
        self.circuit = Circuit(reopen_seconds, max_backoff)
        self.store: Store = config.create()
        self._worker = BlockingWorker("newsmon-store")
        self._open = False
        self.ever_opened = False  # whether the store was usable at any moment of the crawl
        self.last_error: str | None = None
        self.journal: Journal | None = None
        self._reported: set[str] = set()  # outage messages this crawl has logged (``report_once``)
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
            from crawler.checks import check_setting

            settings = crawler.settings
            service = cls(StoreConfig.from_settings(settings), crawler.stats,
                          check_setting(settings, "STORE_UNAVAILABLE_BACKOFF"),
                          check_setting(settings, "STORE_UNAVAILABLE_BACKOFF_MAX"))
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

    def call_blocking(self, func: Callable[..., T], *args: Any) -> T:
        """What ``call`` runs on the store thread, for a caller that owns the service and no
        reactor (a test stepping the circuit's clock): the same opening, circuit and errors."""
        return self._in_thread(func, args)

    def _in_thread(self, func: Callable[..., T], args: tuple[Any, ...]) -> T:
        # One back-off for both ways a store is unusable: a failed open (before the store ever
        # opened, or after) and an unavailable call both go through the circuit, so an outage
        # holds the store thread for one busy/selection timeout per opening or probe.
        now = self._clock()
        if not self.circuit.allows(now):
            self._inc("circuit/refused")
            raise CircuitOpenError(f"store unavailable ({self.circuit.reason}): not tried again for "
                                   f"{self.circuit.until - now:.1f} s")
        probing = self.circuit.is_open
        if probing:
            self._inc("circuit/probes")
        if not self._open:
            try:
                self.store.open()
            except StorageError as exc:
                self.last_error = str(exc)
                self._inc("open_failed")
                self._failed(exc, probing)
                raise
            self._open = self.ever_opened = True
            self.last_error = None
        try:
            with cpu_timer(self.stats, f"store_thread/{getattr(func, '__name__', 'call')}"):
                result = func(self.store, *args)
        except StorageError as exc:
            if unavailable(exc):
                self._inc("unavailable")
                self._failed(exc, probing)
            raise
        if probing:
            self._succeeded()
        return result

    def _failed(self, exc: StorageError, probing: bool) -> None:
        now = self._clock()
        if self.circuit.failed(now, str(exc)):
            self._inc("circuit/opened")
            logger.error("%s is unavailable (%s): the next calls go straight to the journal for %.1f s, "
                         "then one probes the store", self.describe(), exc, self.circuit.window)
        elif probing:
            logger.warning("%s still unavailable: probing it again in %.1f s", self.describe(),
                           self.circuit.window)

    def _succeeded(self) -> None:
        self.circuit.succeeded(self._clock())
        self._inc("circuit/closed")
        logger.info("%s is usable again: writing resumes (%d calls went to the journal meanwhile)",
                    self.describe(), self.circuit.refused)

    def report_once(self, log: logging.Logger, level: int, key: str, later: str, msg: str,
                    *args: Any) -> None:
        """Log ``msg % args`` at ``level`` the first time ``key`` (one kind of outage message) comes
        up in this crawl, followed by `` (later)``, which says what becomes of the repeats; at DEBUG
        after that. While the store is down every batch fails the same way, and a line each
        buried the log (the counts stay exact in the stats and the crawl's summary)."""
        first = key not in self._reported
        self._reported.add(key)
        log.log(level if first else logging.DEBUG, msg + "%s", *args, f" ({later})" if first else "")

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"newsmon/store/{key}")

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
