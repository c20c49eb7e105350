"""Record every crawl as a ``crawl_runs`` document: who started it, when, how it ended, its stats.

The document is inserted when the spider opens (``outcome: "running"``, with the ``host`` and
``pid`` of the crawl) and completed when it closes, with the Scrapy stats (keys made storable:
MongoDB forbids ``.`` and a leading ``$``) and a short ``summary`` of the counters people read
first. The run id comes from ``NEWSMON_RUN_ID`` when a parent process (the scheduler,
``newsmon crawl``) chose it, so it can find the document. If the store refuses the final
document, it is journaled and written at the next crawl of the site.

Outcomes (``outcome_of``), so that a run never reports success while it lost something:

- ``finished``: everything the crawl produced reached the store;
- ``degraded``: it finished, but something was journaled, failed to store or was lost, or an
  alert could not be delivered (it stays in the outbox, ``pipelines.outbox``);
- ``failed``: nothing could be fetched (unreachable site, robots.txt), the store was never
  usable, or the crawl stopped on an error;
- ``timed_out`` / ``killed``: stopped by a time limit / a signal; a ``running`` run whose process
  is gone is marked ``killed`` by the next command that reads runs (``reap_dead_runs``).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import sleep as scrapy_sleep

from crawler.checks import check_setting
from crawler.errors import StorageError
from crawler.health import CrawlHealth, Health
from crawler.stages import crawl_stages_off
from pipelines.identity import SCHEMA_VERSION
from pipelines.storage.service import StoreService

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

    from pipelines.storage.base import Store

__all__ = ["CrawlRunRecorder", "outcome_for", "outcome_of", "reap_dead_runs", "storable_stats", "summarize"]

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
    """The counters of a crawl that a person reads first; each item is counted in one of them.

    Articles and snippets are counted by what identity decided for them once they reached the
    store (``newsmon/dedupe/...``); with dedupe off, by what the store did.
    """
    get = lambda key: int(stats.get(key, 0) or 0)  # noqa: E731
    decided = _sum(stats, "newsmon/dedupe/") - _sum(stats, "newsmon/dedupe/snippets/") - _sum(
        stats, "newsmon/dedupe/url/")
    if decided:
        new, revised = get("newsmon/dedupe/new"), get("newsmon/dedupe/revision")
        unchanged = get("newsmon/dedupe/unchanged")
    else:
        new, revised = get("newsmon/store/articles/inserted"), get("newsmon/store/articles/updated")
        unchanged = get("newsmon/store/articles/unchanged")
    if _sum(stats, "newsmon/dedupe/snippets/"):
        snippets_new = get("newsmon/dedupe/snippets/new")
        snippets_again = get("newsmon/dedupe/snippets/unchanged")
    else:
        snippets_new = get("newsmon/store/feed_snippets/inserted")
        snippets_again = get("newsmon/store/feed_snippets/updated") + get("newsmon/store/feed_snippets/unchanged")
    return {
        "pages": get("response_received_count"),
        "articles_new": new,
        "articles_updated": revised,
        "articles_unchanged": unchanged,
        "articles_skipped_known": get("newsmon/incremental/skipped_known"),
        "not_modified": _sum(stats, "newsmon/incremental/not_modified/"),
        "snippets_new": snippets_new,
        "snippets_seen_again": snippets_again,
        "store_failed": get("newsmon/store/articles/failed") + get("newsmon/store/feed_snippets/failed"),
        "duplicates_exact": get("newsmon/dedupe/exact_duplicate"),
        "duplicates_near": get("newsmon/dedupe/near_duplicate"),
        "revisions": revised,
        "snippets_corrected": get("newsmon/dedupe/snippets/revision"),
        "topic_flags_new": get("newsmon/topic_flags/new"),
        "journaled": _sum(stats, "newsmon/journal/") - _sum(stats, "newsmon/journal/replayed/")
        - get("newsmon/journal/lost") - get("newsmon/journal/unreadable"),
        "replayed": _sum(stats, "newsmon/journal/replayed/"),
        "alerts_pending": get("newsmon/alerts/outbox/retry"),
        "alerts_expired": get("newsmon/alerts/outbox/expired"),
        "lost": get("newsmon/journal/lost") + get("newsmon/journal/unreadable"),
        "dropped": _sum(stats, "newsmon/drop/"),
        "not_articles": _sum(stats, "newsmon/pages/not_article/"),
        "errors": _sum(stats, "newsmon/errors/"),
    }


def outcome_of(reason: str, stats: dict[str, Any], store_usable: bool, replay_only: bool = False) -> str:
    """The run's outcome from Scrapy's close reason, its stats and whether the store was ever
    usable (see the module docstring)."""
    outcome = outcome_for(reason)
    if outcome != "finished":
        return outcome
    summary = summarize(stats)
    if not store_usable:
        return "failed"
    if not replay_only and not summary["pages"]:
        return "failed"  # nothing fetched: unreachable site, DNS, robots.txt
    if summary["journaled"] or summary["store_failed"] or summary["lost"]:
        return "degraded"
    if summary["alerts_pending"] or summary["alerts_expired"]:
        return "degraded"  # an alert nobody received yet (sent again next crawl) or given up
    return "finished"


def _process_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_dead_runs(store: Any, site: str | None = None) -> int:
    """Mark ``running`` runs of this host whose process is gone as ``killed``; how many."""
    query: dict[str, Any] = {"outcome": "running"}
    if site:
        query["site"] = site
    host = socket.gethostname()
    reaped = 0
    for run in list(store.find("crawl_runs", query)):
        if run.get("host") == host and not _process_alive(run.get("pid")):
            store.update_run(run["_id"], {"outcome": "killed", "finish_reason": "process gone",
                                          "finished_at": run.get("finished_at") or datetime.now(UTC)})
            reaped += 1
    return reaped


class CrawlRunRecorder:
    """Scrapy extension writing the ``crawl_runs`` document of this crawl."""

    def __init__(self, crawler: Crawler, service: StoreService, trigger: str) -> None:
        self.crawler = crawler
        self.service = service
        self.trigger = trigger
        self.run_id = os.environ.get("NEWSMON_RUN_ID") or uuid.uuid4().hex
        self.run: dict[str, Any] = {}
        self.health = CrawlHealth.from_crawler(crawler, service.config.data_dir)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        settings = crawler.settings
        if not check_setting(settings, "CRAWL_RUNS_ENABLED") or not check_setting(settings, "STORE_ENABLED"):
            raise NotConfigured("CRAWL_RUNS_ENABLED or STORE_ENABLED is off")
        recorder = cls(crawler, StoreService.of(crawler), check_setting(settings, "NEWSMON_RUN_TRIGGER"))
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    async def spider_opened(self, spider: Spider) -> None:
        self.crawler.stats.set_value("newsmon/run_id", self.run_id)
        self.run = {
            "_id": self.run_id,
            "schema_version": SCHEMA_VERSION,
            "site": spider.name,
            "trigger": self.trigger,
            "started_at": datetime.now(UTC),
            "finished_at": None,
            "outcome": "running",
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "args": {k: str(v) for k, v in getattr(spider, "limits", {}).__dict__.items() if v is not None}
            if hasattr(spider, "limits") else {},
            "stages_off": sorted(crawl_stages_off(self.crawler)),
        }
        run = self.run

        def insert(store: Any) -> None:
            reap_dead_runs(store, spider.name)
            # A parent (the scheduler) may have recorded the run already, to be able to record
            # its outcome even when this process never gets this far.
            if any(store.find("crawl_runs", {"_id": self.run_id}, limit=1)):
                store.update_run(self.run_id, {k: v for k, v in run.items() if k not in ("_id", "trigger")})
            else:
                store.insert_run(run)

        try:
            await self.service.call(insert)
        except StorageError as exc:  # recorded at the end, or journaled then
            logger.error("Could not record the start of crawl run %s: %s", self.run_id, exc)

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        # Scrapy starts the spider_closed handlers in the order they were connected, extensions
        # (this one) before downloader middlewares: yield once, so the incremental middleware's
        # close-time counts (validators dropped, pages that gave no article) are in the record.
        await scrapy_sleep(0)
        stats = dict(self.crawler.stats.get_stats())
        outcome = outcome_of(reason, stats, self.service.ever_opened,
                             check_setting(self.crawler.settings, "NEWSMON_REPLAY_ONLY"))
        self.crawler.stats.set_value("newsmon/outcome", outcome)
        fields = {
            "finished_at": datetime.now(UTC),
            "outcome": outcome,
            "finish_reason": reason,
            "summary": summarize(stats),
            "stats": storable_stats(stats),
        }
        if self.service.last_error and not self.service.ever_opened:
            fields["store_error"] = self.service.last_error
        whole = {**self.run, **fields}
        verdict: list[Health] = []

        def update(store: Any) -> None:
            if self.health is not None:  # compared with the site's earlier runs, so judged here
                verdict[:] = [self.health.judge(store, whole, spider)]
                fields["health"] = whole["health"] = verdict[0].as_doc()
            if any(store.find("crawl_runs", {"_id": self.run_id}, limit=1)):
                store.update_run(self.run_id, fields)
            else:
                store.insert_run(whole)

        try:
            await self.service.call(update)
        except StorageError as exc:
            from pipelines.store import journal_records

            logger.error("Could not record the end of crawl run %s: %s", self.run_id, exc)
            if self.health is not None and not verdict:
                verdict[:] = [self.health.judge(None, whole, spider)]
                whole["health"] = verdict[0].as_doc()
            await journal_records(self.crawler, self.service, "run", [whole])
        if verdict:
            self.crawler.stats.set_value("newsmon/health", verdict[0].status)
            await self.health.announce(whole, verdict[0])  # type: ignore[union-attr]
