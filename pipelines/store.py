"""Store: the last stage of the item path (clean → identity → topics → **store**).

Identity decided each item and grouped items in batches; this stage writes each batch whole, in
the order identity decided them, once all of its items have passed topics: the batch's document
writes first (``pipelines.dedupe.apply_plan``: upserts, field updates, revisions), then the topic
flags of the items whose document landed (``pipelines.storage.flags.record_flags``). So every
flag names a stored document, and only flags that are new go to the alert sinks
(``pipelines.alerts``). Ready batches are written when ``STORE_BATCH_SIZE`` items wait, when the
oldest waited ``STORE_FLUSH_SECONDS`` and when the spider closes. Every store call runs on the
crawl's one store thread (``pipelines.storage.service``).

Nothing is lost when the store fails: a batch refused twice, flags refused, goes to the journal
(``pipelines.journal``) and is replayed at the next crawl of the site; the replay of the journal's
other records (flags, fetch state, run documents) happens here, when the spider opens.

Counters: ``newsmon/dedupe/<decision>`` and ``newsmon/dedupe/snippets/<decision>`` (decisions
that reached the store), ``newsmon/store/<collection>/<inserted|updated|unchanged|failed>`` (what
the backend did per write), ``newsmon/topic_flags/new``, ``newsmon/journal/<kind>`` (records
journaled) and ``newsmon/journal/lost`` (records the journal's disk refused too: logged at CRITICAL).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet import task
from twisted.internet.threads import deferToThread

from crawler.checks import check_setting
from crawler.errors import CircuitOpenError, StorageError
from crawler.items import FeedSnippet
from pipelines.alerts import AlertConfig, AlertSink, build_sinks
from pipelines.dedupe import DECISIONS, apply_plan
from pipelines.identity import (
    SCHEMA_VERSION,
    Batch,
    article_document,
    article_id,
    item_record,
    snippet_document,
    ticket_of,
)
from pipelines.outbox import due_alerts, mark_results, outbox_id, record_pending
from pipelines.repeats import Repeats
from pipelines.storage.fetchstate import FIELDS as FETCH_FIELDS
from pipelines.storage.flags import record_flags
from pipelines.storage.service import StoreService

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from pipelines.storage.base import Store, WriteSummary

__all__ = [
    "SCHEMA_VERSION",
    "StorePipeline",
    "article_document",
    "article_id",
    "journal_items",
    "journal_records",
    "snippet_document",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")


async def journal_records(crawler: Crawler, service: StoreService, kind: str,
                          records: Sequence[dict[str, Any]]) -> None:
    """Append records to the site's journal (on a thread: it fsyncs) and count them."""
    if not records:
        return
    journal = service.journal_for(crawler.spider.name)
    try:
        await maybe_deferred_to_future(deferToThread(journal.append, kind, records))
    except OSError as exc:
        crawler.stats.inc_value("newsmon/journal/lost", len(records))
        logger.critical("LOST %d %s records: the journal %s refused them too: %s", len(records), kind,
                        journal.path, exc)
        return
    crawler.stats.inc_value(f"newsmon/journal/{kind}", len(records))
    service.report_once(  # one ERROR per kind: batches often hold one record
        logger, logging.ERROR, f"journal/{kind}",
        f"the crawl's further {kind} records journaled are counted in newsmon/journal/{kind}, "
        "not logged one by one",
        "Journaled %d %s records in %s; the next crawl of %s writes them", len(records), kind, journal.path,
        crawler.spider.name)


async def journal_items(crawler: Crawler, service: StoreService, collection: str,
                        items: Sequence[Any]) -> None:
    kind = "article" if collection == "articles" else "snippet"
    await journal_records(crawler, service, kind, [item_record(i)[1] for i in items])


def _write_batch(store: Store, batch: Batch, sinks: Sequence[str]) -> tuple[
        WriteSummary, set[str], list[dict[str, Any]], list[dict[str, Any]]]:
    """On the store thread: the batch's documents, then the flags of those that landed, then an
    outbox entry per new flag and sink. Returns (summary, failed document ids, new flags, flags
    the store refused)."""
    summary = apply_plan(store, batch.collection, batch.plan)
    failed = {doc_id for doc_id, _ in summary.errors}
    flags = [f for t in batch.tickets if t.doc_id not in failed for f in t.flags]
    try:
        return summary, failed, _record_flags_and_outbox(store, flags, sinks), []
    except StorageError as exc:
        logger.error("Could not record %d topic flags: %s", len(flags), exc)
        return summary, failed, [], flags


def _record_flags_and_outbox(store: Store, flags: Sequence[dict[str, Any]], sinks: Sequence[str]) -> list[
        dict[str, Any]]:
    new = record_flags(store, flags)
    record_pending(store, new, sinks)
    return new


class StorePipeline:
    """Write decided batches in order, then their flags; alert; journal what fails."""

    def __init__(self, crawler: Crawler, service: StoreService, batch_size: int, flush_seconds: float,
                 alert_config: AlertConfig) -> None:
        self.crawler = crawler
        self.service = service
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.alert_config = alert_config
        self.sinks: list[AlertSink] = []
        self._batches: dict[str, list[Batch]] = {"articles": [], "feed_snippets": []}
        self._waiting: dict[str, int] = {"articles": 0, "feed_snippets": 0}
        self._oldest: dict[str, float] = {}
        self._locks = {"articles": asyncio.Lock(), "feed_snippets": asyncio.Lock()}
        self._journaled: dict[str, bool] = {"articles": False, "feed_snippets": False}
        self._timer: task.LoopingCall | None = None
        self._deliveries: list[tuple[str, bool, str | None]] = []  # (outbox _id, delivered, reason)
        self.outbox_backoff = 60.0
        self.outbox_expire = timedelta(hours=72)
        self.repeats: Repeats | None = None  # repeated News Feed sightings, gathered (pipelines/repeats.py)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        if not check_setting(settings, "STORE_ENABLED"):
            raise NotConfigured("STORE_ENABLED is off")
        service = StoreService.of(crawler)
        alert_config = AlertConfig.from_settings(settings, service.config.data_dir)
        pipeline = cls(crawler, service, check_setting(settings, "STORE_BATCH_SIZE"),
                       check_setting(settings, "STORE_FLUSH_SECONDS"), alert_config)
        pipeline.outbox_backoff = check_setting(settings, "ALERT_OUTBOX_BACKOFF")
        pipeline.outbox_expire = timedelta(hours=check_setting(settings, "ALERT_OUTBOX_EXPIRE_HOURS"))
        if check_setting(settings, "SNIPPET_REPEATS_GATHERED"):
            pipeline.repeats = Repeats.install(crawler)
            crawler.signals.connect(pipeline._item_dropped, signal=signals.item_dropped)
        return pipeline

    # --- lifecycle -------------------------------------------------------------------------------

    async def open_spider(self) -> None:
        from twisted.internet import reactor

        self.sinks = build_sinks(self.alert_config, self._count_alert)
        for sink in self.sinks:
            sink.on_result = self._delivered
            sink.open()
        self.service.take_replay(self.crawler.spider.name)
        await self._replay_records()
        await self._retry_outbox()
        try:
            await self.service.call(lambda store: None)  # open now: the log says where items go
            logger.info("Storing items in %s", self.service.describe())
        except StorageError as exc:
            logger.error("The store is unavailable (%s): items are journaled until it is back", exc)
        self._timer = task.LoopingCall(self._flush_aged)
        self._timer.clock = reactor  # type: ignore[assignment]
        self._timer.start(self.flush_seconds, now=False)

    async def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        try:
            for collection in self._batches:
                await self._write_ready(collection, force=True)
            await self._write_repeats()  # after every batch: the documents they add to are written
            left = self.repeats.pending() if self.repeats is not None else 0
            if left:  # their first sighting was neither written, journaled nor dropped: a bug to see
                self._inc("snippets/repeats/unwritten", left)
                logger.warning("%d gathered snippet sightings were not written", left)
        finally:
            for sink in self.sinks:
                await sink.close()
            await self._record_deliveries()

    async def _replay_records(self) -> None:
        """Write the journal's flags, fetch state and run records (items replay through the path)."""
        records = self.service.replay_other
        if not records:
            return
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for kind, record in records:
            by_kind.setdefault(kind, []).append(record)
        for kind, group in by_kind.items():
            try:
                if kind == "flags":
                    new = await self.service.call(_record_flags_and_outbox, group, self._sink_names)
                    self._announce(new)
                elif kind == "fetch_state":
                    docs = [{"_id": r["_id"], **{k: r.get(k) for k in FETCH_FIELDS}} for r in group]
                    await self.service.call(lambda store, d=docs: store.replace_documents("fetch_state", d))
                else:
                    await self.service.call(lambda store, d=group: store.replace_documents("crawl_runs", d))
                self.crawler.stats.inc_value(f"newsmon/journal/replayed/{kind}", len(group))
            except StorageError as exc:
                logger.error("Could not replay %d journaled %s records: %s", len(group), kind, exc)
                await journal_records(self.crawler, self.service, kind, group)

    # --- items -----------------------------------------------------------------------------------

    async def process_item(self, item: Any) -> Any:
        ticket = ticket_of(item)
        if ticket is None or ticket.journaled or ticket.batch is None:
            if ticket is None:  # not through identity: nothing of it is stored, nor of its repeats
                self._item_dropped(item)
            else:  # journaled: so are the sightings gathered for it
                await self._repeats_missed([item])
            return item
        if ticket.raises_flags:
            ticket.set_topics(list(getattr(item, "topics", None) or []))
        batch, collection = ticket.batch, ticket.collection
        batches = self._batches[collection]
        if batch.arrived == 0:
            batches.append(batch)
            batches.sort(key=lambda b: b.seq)
        batch.arrived += 1
        if not self._waiting[collection]:
            self._oldest[collection] = time.monotonic()
        self._waiting[collection] += 1
        if self._waiting[collection] >= self.batch_size:
            await self._write_ready(collection)
        if self.repeats is not None and self.repeats.ready >= self.batch_size:
            await self._write_repeats()
        return item

    def _flush_aged(self) -> Any:
        now = time.monotonic()
        due = [c for c, n in self._waiting.items() if n and now - self._oldest.get(c, now) >= self.flush_seconds]
        work = [deferred_from_coro(self._write_ready(c)) for c in due]
        if self.repeats is not None and self.repeats.ready:
            work.append(deferred_from_coro(self._write_repeats()))
        if self._deliveries:
            work.append(deferred_from_coro(self._record_deliveries()))
        if not work:
            return None
        from twisted.internet.defer import DeferredList

        return DeferredList(work)

    # --- the alert outbox ------------------------------------------------------------------------

    @property
    def _sink_names(self) -> list[str]:
        return [sink.name for sink in self.sinks]

    def _delivered(self, sink: str, flag_id: str, delivered: bool, reason: str | None) -> None:
        self._deliveries.append((outbox_id(flag_id, sink), delivered, reason))

    async def _record_deliveries(self) -> None:
        """What the sinks confirmed (or not) since the last call, into the outbox."""
        results, self._deliveries = self._deliveries, []
        if not results:
            return
        try:
            counts = await self.service.call(mark_results, results, self.outbox_backoff, self.outbox_expire)
        except StorageError as exc:  # they stay pending: sent again at the next crawl
            logger.error("Could not record %d alert deliveries: %s", len(results), exc)
            return
        for outcome, n in counts.items():
            self._inc(f"alerts/outbox/{outcome}", n)

    async def _retry_outbox(self) -> None:
        """Send again the alerts earlier crawls could not deliver (those now due)."""
        if not self.sinks:
            return
        try:
            due = await self.service.call(due_alerts, self._sink_names)
        except StorageError as exc:
            logger.error("Could not read the alert outbox: %s", exc)
            return
        if not due:
            return
        now = datetime.now(UTC)
        for sink in self.sinks:
            mine = [d for d in due if d["sink"] == sink.name]
            stale = [d for d in mine if now - d["created_at"] >= self.outbox_expire]
            for doc in stale:
                self._deliveries.append((doc["_id"], False, "expired before it could be delivered"))
            fresh = [d["payload"] for d in mine if d not in stale]
            if fresh:
                logger.info("Sending %d alerts again through %s (not delivered before)", len(fresh), sink.name)
                self._inc("alerts/outbox/resent", len(fresh))
                sink.send(fresh)

    async def _write_ready(self, collection: str, force: bool = False) -> None:
        """Write, in order, the batches whose items have all arrived (all of them at close)."""
        async with self._locks[collection]:
            batches = self._batches[collection]
            while batches and (force or batches[0].complete):
                batch = batches.pop(0)
                self._waiting[collection] -= batch.arrived
                await self._write(batch)
            self._oldest[collection] = time.monotonic()

    async def _write(self, batch: Batch) -> None:
        collection = batch.collection
        try:
            if self._journaled[collection] and batch.plan.uses_pending:
                # Decided against documents of a batch that went to the journal: writing it
                # would touch documents that are not there. It follows them into the journal.
                await self._journal_batch(batch, "it depends on a journaled batch")
                return
            result = await self._call_twice(f"{len(batch.tickets)} {collection}", _write_batch, batch,
                                            self._sink_names)
            if result is None:
                await self._journal_batch(batch, "the store refused it twice")
                return
            summary, failed, new_flags, refused_flags = result
            self._count(batch, summary, failed)
            await self._repeats_landed(batch, failed)
            self._announce(new_flags)
            if refused_flags:
                await journal_records(self.crawler, self.service, "flags", refused_flags)
        finally:
            batch.done()

    async def _call_twice(self, what: str, func: Callable[..., T], *args: Any) -> T | None:
        """``func`` on the store thread, tried once more if it fails; None if both fail, or if the
        store's circuit refused it (the outage was logged once when it opened: each refusal is
        DEBUG, and trying again at once would be refused too)."""
        for attempt in (1, 2):
            try:
                return await self.service.call(func, *args)
            except CircuitOpenError as exc:
                logger.debug("Writing %s: %s", what, exc)
                return None
            except StorageError as exc:
                logger.warning("Writing %s failed (attempt %d of 2): %s", what, attempt, exc)
        return None

    async def _journal_batch(self, batch: Batch, why: str) -> None:
        # Said once per reason and collection: while the store is down every batch goes this
        # way. The journal's own ERROR (once per kind) and the crawl's summary count them all.
        self.service.report_once(logger, logging.WARNING, f"journal-batch/{batch.collection}/{why}",
                                 "further batches for this reason: not logged one by one",
                                 "Journaling %d %s: %s", len(batch.tickets), batch.collection, why)
        self._journaled[batch.collection] = True
        await journal_items(self.crawler, self.service, batch.collection, [t.item for t in batch.tickets])
        for ticket in batch.tickets:
            ticket.journaled = True
        await self._repeats_missed([t.item for t in batch.tickets])

    # --- repeated News Feed sightings (pipelines/repeats.py) -------------------------------------

    async def _repeats_landed(self, batch: Batch, failed: set[str]) -> None:
        if self.repeats is None or batch.collection != "feed_snippets":
            return
        missed = []
        for ticket in batch.tickets:
            if ticket.doc_id in failed:
                missed.append(ticket.item)
            else:
                self.repeats.landed(ticket.item, ticket.doc_id, item_record(ticket.item)[1])
        await self._repeats_missed(missed)

    async def _repeats_missed(self, items: Sequence[Any]) -> None:
        """First sightings that were not written: the sightings gathered for them are journaled."""
        if self.repeats is None:
            return
        records = [r for item in items if isinstance(item, FeedSnippet)
                   for r in self.repeats.missed(item, item_record(item)[1])]
        if records:
            self._inc("items/snippet", len(records))
            await journal_records(self.crawler, self.service, "snippet", records)

    def _item_dropped(self, item: Any, **kwargs: Any) -> None:
        if self.repeats is not None and isinstance(item, FeedSnippet):
            self._inc("drop/repeat_of_dropped", self.repeats.dropped(item))

    async def _write_repeats(self) -> None:
        """Write the gathered sightings of landed snippets: one upsert, merged by the snippet plan."""
        if self.repeats is None:
            return
        async with self._locks["feed_snippets"]:
            docs, records = self.repeats.take()
            if not docs:
                return
            summary = await self._call_twice(f"{len(docs)} gathered snippet sightings",
                                             lambda store, d=docs: store.upsert_snippets(d))
            self._inc("items/snippet", len(docs))  # each would have been an item, cleaned as such
            if summary is None:
                await journal_records(self.crawler, self.service, "snippet", records)
                return
            for outcome in ("inserted", "updated", "unchanged", "failed"):
                self._inc(f"store/feed_snippets/{outcome}", getattr(summary, outcome))
            self._inc("dedupe/snippets/unchanged", len(docs) - summary.failed)
            for key, message in summary.errors[:20]:
                logger.warning("Could not store gathered feed_snippets sightings of %s: %s", key, message)

    # --- helpers ---------------------------------------------------------------------------------

    def _count(self, batch: Batch, summary: WriteSummary, failed: set[str]) -> None:
        collection = batch.collection
        for outcome in ("inserted", "updated", "unchanged", "failed"):
            self._inc(f"store/{collection}/{outcome}", getattr(summary, outcome))
        prefix = "dedupe" if collection == "articles" else "dedupe/snippets"
        for ticket in batch.tickets:
            if ticket.decision in DECISIONS and ticket.doc_id not in failed:
                self._inc(f"{prefix}/{ticket.decision}", 1)
        for key, message in summary.errors[:20]:
            logger.warning("Could not store %s %s: %s", collection, key, message)

    def _announce(self, new_flags: list[dict[str, Any]]) -> None:
        if not new_flags:
            return
        self._inc("topic_flags/new", len(new_flags))
        for sink in self.sinks:
            sink.send(new_flags)

    def _inc(self, key: str, count: int) -> None:
        if count:
            self.crawler.stats.inc_value(f"newsmon/{key}", count)

    def _count_alert(self, sink: str, outcome: str, n: int) -> None:
        if n:
            self.crawler.stats.inc_value(f"newsmon/alerts/{sink}/{outcome}", n)
