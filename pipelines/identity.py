"""Identity: settle what each item is before anything else looks at it.

The second stage of the item path (clean → **identity** → topics → store). For every article and
News Feed snippet it

1. settles the canonical URL once, with the site's trailing-slash policy: the declared canonical
   (``<link rel=canonical>``/``og:url``, already in ``item.url``) when it lies on one of the
   spider's allowed domains, else the fetched URL (``pipelines.urls``);
2. decides, against the store and in batches, whether it is ``new``, ``unchanged``, a
   ``revision``, an ``exact_duplicate`` or a ``near_duplicate`` of a stored document
   (``pipelines.dedupe.Deduper``), and which document it is stored as (``item.doc_id``).

Batches form by group commit: the first item of a collection starts a decision, the items that
arrive meanwhile make up the next one (at most ``STORE_BATCH_SIZE``). A batch decided while an
earlier one is still on its way to the store sees that batch's documents (``PendingDocs``), so a
story met twice in quick succession is still one story. Each item carries a ``Ticket`` to the
later stages; the store stage writes whole batches in the order identity decided them.

When the store cannot be asked (down), the items are journaled (``pipelines.journal``) as they
left cleaning, counted as ``newsmon/journal/<collection>``, and replayed through this stage at the
next crawl; topics and store pass them by.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from crawler.checks import check_setting
from crawler.dupefilter import trailing_slash_policy
from crawler.errors import StorageError
from crawler.items import Article, FeedSnippet, item_dict, precomputed
from crawler.timing import cpu_timer
from pipelines.dedupe import REPLAYED, SIGNED, BatchPlan, DedupeConfig, Deduper, PendingDocs
from pipelines.storage.service import StoreService
from pipelines.urls import article_url, canonical_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

__all__ = [
    "INTERNAL_FIELDS",
    "REPLAYED_ATTRIBUTE",
    "SCHEMA_VERSION",
    "Batch",
    "IdentityPipeline",
    "Ticket",
    "article_document",
    "article_id",
    "item_record",
    "signed_ahead",
    "snippet_document",
    "ticket_of",
]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1  # bumped on any incompatible change of the stored documents (README, "Schema")
# Item fields that describe the item's trip through the path, not the story: never stored.
_PATH_FIELDS = ("doc_id", "identity")
# Stored fields that only dedupe reads: left out of `newsmon export`.
INTERNAL_FIELDS = ("minhash", "shingles", "dedupe_keys")
_TICKET = "_newsmon_ticket"
REPLAYED_ATTRIBUTE = "_newsmon_replayed"  # set on items rebuilt from the journal (crawler/replay.py)


def article_id(canonical: str) -> str:
    """The stable key of an article: a hash of its canonical URL."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def signed_ahead(item: Article, config: DedupeConfig) -> tuple[str, int, tuple[int, ...]] | None:
    """The extraction worker's MinHash signing of ``item`` (``crawler.items.Precomputed``), when it
    signed this very title and body with ``config``'s parameters; else None (the Deduper signs)."""
    pre = precomputed(item)
    if pre is None or pre.signed is None or pre.signed_with != config.article_signing:
        return None
    return pre.signed if pre.title == item.title and pre.body == item.body else None


def article_document(item: Article) -> dict[str, Any]:
    doc = item_dict(item)
    for name in _PATH_FIELDS:
        doc.pop(name, None)
    doc["_id"] = article_id(doc["url"])
    doc["schema_version"] = SCHEMA_VERSION
    return doc


def snippet_document(item: FeedSnippet) -> dict[str, Any]:
    doc = item_dict(item)
    for name in _PATH_FIELDS:
        doc.pop(name, None)
    doc["_id"] = doc.pop("fingerprint")
    doc["schema_version"] = SCHEMA_VERSION
    return doc


def item_record(item: Article | FeedSnippet) -> tuple[str, dict[str, Any]]:
    """(journal kind, fields) of an item, as the journal keeps it."""
    record = item_dict(item)
    for name in _PATH_FIELDS:
        record.pop(name, None)
    return ("article" if isinstance(item, Article) else "snippet"), record


@dataclass(eq=False)
class Ticket:
    """One item's trip through identity, topics and store."""

    item: Article | FeedSnippet
    collection: str  # "articles" | "feed_snippets"
    doc: dict[str, Any]
    batch: Batch | None = None
    decision: str = ""  # a DECISIONS value; "" when dedupe is off
    doc_id: str = ""  # the _id of the document the item is stored as
    upsert: dict[str, Any] | None = None  # this item's own document write, if it has one
    flags: list[dict[str, Any]] = field(default_factory=list)  # set by the topics stage
    journaled: bool = False
    ready: asyncio.Future[None] | None = None

    @property
    def raises_flags(self) -> bool:
        """Whether topics should look at it: a duplicate or an unchanged item never flags."""
        return not self.journaled and self.decision in ("", "new", "revision")

    def set_topics(self, topics: list[dict[str, Any]]) -> None:
        """Carry the matched topics into the write of the document."""
        if self.upsert is not None:
            self.upsert["topics"] = topics
        elif self.batch is not None and self.decision == "revision":
            plan = self.batch.plan
            fresh = next((d for d in plan.upserts if d["_id"] == self.doc_id and d is plan.touched.get(self.doc_id)),
                         None)
            if fresh is not None:  # the revised document is new in this very batch
                fresh["topics"] = topics
            else:
                plan.updates.setdefault(self.doc_id, {})["topics"] = topics


@dataclass(eq=False)
class Batch:
    """A decided batch: written whole, in the order identity decided it."""

    seq: int
    collection: str
    tickets: list[Ticket]
    plan: BatchPlan
    pending: PendingDocs | None
    arrived: int = 0

    @property
    def complete(self) -> bool:
        return self.arrived >= sum(1 for t in self.tickets if not t.journaled)

    def done(self) -> None:
        """Written or journaled: its documents are no longer pending."""
        if self.pending is not None:
            self.pending.release(self.seq)


def ticket_of(item: Any) -> Ticket | None:
    return getattr(item, _TICKET, None)


class IdentityPipeline:
    """Canonical URLs and dedupe decisions, in batches, before topics and store."""

    def __init__(self, crawler: Crawler, service: StoreService, config: DedupeConfig,
                 batch_size: int) -> None:
        self.crawler = crawler
        self.service = service
        self.config = config
        self.deduper = Deduper(config) if config.enabled else None
        self.batch_size = batch_size
        self._queues: dict[str, list[Ticket]] = {"articles": [], "feed_snippets": []}
        self._draining: dict[str, asyncio.Task[None] | None] = {"articles": None, "feed_snippets": None}
        self._pending = {"articles": PendingDocs(), "feed_snippets": PendingDocs()}
        self._seq = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IdentityPipeline:
        settings = crawler.settings
        if not check_setting(settings, "STORE_ENABLED"):
            raise NotConfigured("STORE_ENABLED is off: nothing to decide identity against")
        config = DedupeConfig.from_settings(settings)
        return cls(crawler, StoreService.of(crawler), config, check_setting(settings, "STORE_BATCH_SIZE"))

    # --- canonical URL ---------------------------------------------------------------------

    def _policy(self) -> str:
        spider = self.crawler.spider
        return trailing_slash_policy(self.crawler.settings, getattr(spider, "name", None))

    def canonicalize(self, item: Article | FeedSnippet) -> None:
        if isinstance(item, Article):
            domains = list(getattr(self.crawler.spider, "allowed_domains", None) or [])
            url = article_url(item.url, item.fetched_url, domains, trailing_slash=self._policy())
            if url != item.url:
                self.crawler.stats.inc_value("newsmon/dedupe/url/replaced")
            item.url = url
        elif item.url:
            item.url = canonical_url(item.url, trailing_slash=self._policy())

    # --- items -----------------------------------------------------------------------------

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, (Article, FeedSnippet)):
            return item
        with cpu_timer(self.crawler.stats, "identity"):
            self.canonicalize(item)
            if isinstance(item, Article):
                collection, doc = "articles", article_document(item)
            else:
                collection, doc = "feed_snippets", snippet_document(item)
        if getattr(item, REPLAYED_ATTRIBUTE, False) and self.deduper is not None:
            doc[REPLAYED] = True  # read (and removed) by the Deduper
        if collection == "articles" and self.deduper is not None:
            signed = signed_ahead(item, self.config)
            if signed is not None:
                doc[SIGNED] = signed  # read (and removed) by the Deduper
        ticket = Ticket(item, collection, doc, ready=asyncio.get_running_loop().create_future())
        setattr(item, _TICKET, ticket)
        self._queues[collection].append(ticket)
        if self._draining[collection] is None:
            self._draining[collection] = asyncio.ensure_future(self._drain(collection))
        await ticket.ready
        return item

    async def _drain(self, collection: str) -> None:
        """Decide queued items batch by batch until the queue is empty (group commit)."""
        try:
            await asyncio.sleep(0)  # one loop turn: the other items of this response join in
            queue = self._queues[collection]
            while queue:
                tickets, queue[:] = queue[: self.batch_size], queue[self.batch_size :]
                try:
                    await self._decide(collection, tickets)
                except Exception:  # never leave an item waiting: it goes to the journal
                    logger.exception("Deciding %d %s failed", len(tickets), collection)
                    await self._journal(collection, [t for t in tickets if not t.ready.done()])
                finally:
                    for ticket in tickets:
                        if not ticket.ready.done():
                            ticket.ready.set_result(None)
        finally:
            self._draining[collection] = None

    async def _decide(self, collection: str, tickets: list[Ticket]) -> None:
        docs = [t.doc for t in tickets]
        self._seq += 1
        pending = self._pending[collection]
        if self.deduper is None:
            plan = BatchPlan(upserts=docs, outcomes=[("", d["_id"]) for d in docs], item_upserts=list(docs))
        else:
            decide = self.deduper.decide_articles if collection == "articles" else self.deduper.decide_snippets
            try:
                plan = await self.service.call(decide, docs, pending)
            except StorageError as exc:
                self.service.report_once(  # one ERROR per collection
                    logger, logging.ERROR, f"decide/{collection}",
                    "the crawl's further batches of them: not logged one by one",
                    "Cannot decide %d %s against the store (%s): journaling them", len(docs), collection, exc)
                await self._journal(collection, tickets)
                return
        batch = Batch(self._seq, collection, tickets, plan, pending if self.deduper else None)
        if self.deduper is not None:
            pending.add(batch.seq, plan.touched)
        for ticket, (decision, doc_id), upsert in zip(tickets, plan.outcomes, plan.item_upserts, strict=True):
            ticket.batch, ticket.decision, ticket.doc_id, ticket.upsert = batch, decision, doc_id, upsert
            ticket.item.doc_id = doc_id
            ticket.item.identity = decision or None

    async def _journal(self, collection: str, tickets: list[Ticket]) -> None:
        from pipelines.store import journal_items

        await journal_items(self.crawler, self.service, collection, [t.item for t in tickets])
        for ticket in tickets:
            ticket.journaled = True

    async def close_spider(self) -> None:
        for collection, task in self._draining.items():
            if task is not None:
                await task
