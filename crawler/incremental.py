"""Incremental re-crawls: fetch again only what may have changed.

A downloader middleware that makes every incremental decision itself; the spider only says what
a request is and what date its link carried (``Request.meta``: ``newsmon_kind``,
``newsmon_source_date``):

- When the crawl opens, the site's fetch state (``pipelines.storage.fetchstate``) is read once,
  on the crawl's store thread; when it closes, what changed is written back in one batch (or
  journaled, if the store refuses it, and written at the next crawl). Knowledge of what was
  fetched thus lives in the store, shared by every run and worker. A store that cannot be read
  at the start means a full crawl (nothing is known), never a lost page.
- Every listing, feed, sitemap and article request carries the stored validators
  (``If-None-Match`` / ``If-Modified-Since``); a 304 reaches the spider, which treats the page as
  unchanged (a listing's older pages are then not walked either).
- An article URL already known is let through only when something says it changed: a newer
  sitemap ``lastmod`` or feed date than last time, or the revisit policy for young articles
  (younger than ``INCREMENTAL_REVISIT_HOURS``, re-checked with a back-off of a quarter of their
  age, at least ``INCREMENTAL_REVISIT_MIN_MINUTES``) that catches silent edits. Otherwise the
  request is dropped with ``SkippedKnown`` (an ``IgnoreRequest``), which the spider's errback
  accounts for. A link met
  again later in the crawl with a newer date is sent again (``newsmon_recheck``) and decided anew.
- Publication times (which drive the revisit policy) come from the scraped ``Article`` items
  (``item_scraped`` signal).
- An article page that answered 200 but gave no stored article (not extracted as one, an empty
  body, dropped by the clean stage, an error in the callback or a pipeline) is not vouched for:
  without this it would be "known and unchanged" for good, so an article lost to an extraction
  gap, a bug since fixed or a crawl run with ``-a since`` would never be fetched again. It is
  fetched again in full (no validators) at the next crawl, then, while it still gives none,
  after ``UNEXTRACTED_BACKOFF`` doubling per attempt up to ``UNEXTRACTED_BACKOFF_MAX``.

Stats: ``newsmon/incremental/not_modified/<kind>``, ``newsmon/incremental/skipped_known``,
``newsmon/incremental/revisit``, ``newsmon/incremental/source_changed``,
``newsmon/incremental/unextracted`` (article pages of this crawl that gave no article),
``newsmon/incremental/recheck_unextracted`` (such pages fetched again).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.checks import check_setting
from crawler.errors import StorageError
from crawler.stages import stores_items
from pipelines.storage.fetchstate import load_fetch_state, save_fetch_state, state_documents
from pipelines.storage.service import StoreService

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

__all__ = ["ALWAYS_FETCH_META", "IncrementalCrawl", "KIND_META", "RECHECK_META", "SOURCE_DATE_META",
           "SkippedKnown", "incremental_on"]

logger = logging.getLogger(__name__)

KIND_META = "newsmon_kind"  # Request.meta key: article, listing, feed or sitemap
# Request.meta keys of article requests: the sitemap/feed date of the link (None: undated), and
# that the spider sends a URL again because a later link carries a newer date.
SOURCE_DATE_META = "newsmon_source_date"
RECHECK_META = "newsmon_recheck"
_DECIDED_META = "newsmon_incremental_decided"  # set here (the decided URL): retries and redirects are not re-decided


# An article page that gave no article is fetched again at the next crawl, then after 1 h, 2 h,
# 4 h ... up to a week: a transient gap is retried at once, a page that is simply not an article
# (a soft 404, a gallery the site links as one) costs a fetch a week at most.
UNEXTRACTED_BACKOFF = timedelta(hours=1)
UNEXTRACTED_BACKOFF_MAX = timedelta(days=7)


def incremental_on(settings: Any) -> bool:
    """Whether these settings make an incremental crawl: ``INCREMENTAL_ENABLED``, and items stored
    (without them the fetch state would vouch for articles that never were, skipped for good)."""
    return bool(check_setting(settings, "INCREMENTAL_ENABLED")) and stores_items(settings)


class SkippedKnown(IgnoreRequest):
    """An article request dropped because the page is known and nothing says it changed."""
# Request.meta key: fetch in full even when unchanged. For a sitemap index: a 304 would hide
# its child sitemaps, whose lastmod dates are what says which articles changed.
ALWAYS_FETCH_META = "newsmon_always_fetch"


class IncrementalCrawl:
    """Conditional GETs and the re-fetch policy, backed by the stored fetch state."""

    def __init__(self, crawler: Crawler, service: StoreService, revisit_hours: float,
                 revisit_min_minutes: float) -> None:
        self.crawler = crawler
        self.service = service
        self.revisit = timedelta(hours=revisit_hours)
        self.revisit_min = timedelta(minutes=revisit_min_minutes)
        self.states: dict[str, dict[str, Any]] = {}
        self.dirty: set[str] = set()
        self._skipped: set[str] = set()
        self._requested: set[str] = set()  # article URLs let through in this crawl
        self._answered: set[str] = set()  # ... of which a response (200/304) came back
        self._fetched: set[str] = set()  # article URLs answered 200 in this crawl
        self._extracted: set[str] = set()  # ... of which an Article reached item_scraped
        self._referer: dict[str, str] = {}  # request URL -> the page that first linked it
        self.site = ""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalCrawl:
        settings = crawler.settings
        if not incremental_on(settings):
            raise NotConfigured("INCREMENTAL_ENABLED is off or the crawl stores no items")
        mw = cls(crawler, StoreService.of(crawler),
                 check_setting(settings, "INCREMENTAL_REVISIT_HOURS"),
                 check_setting(settings, "INCREMENTAL_REVISIT_MIN_MINUTES"))
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(mw.item_scraped, signal=signals.item_scraped)
        return mw

    # --- lifecycle -------------------------------------------------------------------------------

    async def spider_opened(self, spider: Spider) -> None:
        self.site = spider.name
        try:
            self.states = await self.service.call(load_fetch_state, self.site)
        except StorageError as exc:
            logger.error("Fetch state of %s unavailable (%s): crawling as if nothing were known",
                         self.site, exc)
            self.states = {}
        logger.info("Incremental crawl: %d URLs of %s known", len(self.states), self.site)

    async def spider_closed(self, spider: Spider, reason: str = "finished") -> None:
        why = self._cut_short(spider, reason)
        if why:
            self._forget_source_validators(why, self.dirty)
        else:
            self._forget_unanswered_sources()
        self._back_off_unextracted()
        changed = [self.states[url] for url in self.dirty]
        if not changed:
            return
        try:
            await self.service.call(save_fetch_state, changed)
        except StorageError as exc:
            from pipelines.store import journal_records

            logger.error("Could not save the fetch state of %d URLs: %s", len(changed), exc)
            await journal_records(self.crawler, self.service, "fetch_state", state_documents(changed))

    def _cut_short(self, spider: Spider, reason: str) -> str | None:
        """Why this crawl may not have fetched every article its listings, feeds and sitemaps
        linked (None if it did): stopped early, bounded by ``-a`` limits, or article requests
        that got no answer (network errors, 5xx after the retries)."""
        if reason != "finished":
            return f"it ended {reason}"
        limits = getattr(spider, "limits", None)
        if limits is not None and limits.bounded:
            return "it was bounded by -a max_pages/max_articles/since"
        return None

    def _forget_unanswered_sources(self) -> None:
        """An article request that got no 200/304 (a 5xx after the retries, a network error):
        the pages that led to it, up their chain of referers (a listing's page 2 is reached
        from page 1), lose their validators, so the next crawl walks them and asks again."""
        unanswered = self._requested - self._answered
        sources: set[str] = set()
        for url in unanswered:
            source = self._referer.get(url)
            if source is None:  # no Referer to follow (REFERER_ENABLED off): forget them all
                self._forget_source_validators(f"{len(unanswered)} article requests got no answer", self.dirty)
                return
            while source and source not in sources:
                sources.add(source)
                source = self._referer.get(source)
        if sources:
            self._forget_source_validators(f"{len(unanswered)} article requests got no answer", sources)

    def _forget_source_validators(self, why: str, urls: set[str]) -> None:
        """Drop the validators of these listings, feeds and sitemaps. Kept, they would make the
        next crawl get a 304 for each, walk none of their links, and so never fetch the
        articles this crawl left out: the next crawl fetches those pages in full instead (known
        articles are still skipped, so it costs a few pages)."""
        dropped = 0
        for url in urls:
            state = self.states.get(url)
            if state is None:
                continue
            if state.get("kind") != "article" and (state.get("etag") or state.get("last_modified")):
                state["etag"] = state["last_modified"] = None
                self.dirty.add(url)
                dropped += 1
        if dropped:
            logger.info("Crawl of %s may be incomplete (%s): its %d listing/feed/sitemap validators "
                        "are not kept, so the next crawl walks those pages in full", self.site, why, dropped)
            self.crawler.stats.set_value("newsmon/incremental/validators_dropped", dropped)

    def _back_off_unextracted(self) -> None:
        """Article pages answered 200 that gave no stored article: fetched again later, in full."""
        now = datetime.now(UTC)
        unextracted = self._fetched - self._extracted
        for url in unextracted:
            state = self._state(url, "article")
            attempts = int(state.get("unextracted") or 0)
            state["unextracted"] = attempts + 1
            state["recheck_after"] = now if attempts == 0 else \
                now + min(UNEXTRACTED_BACKOFF * 2 ** (attempts - 1), UNEXTRACTED_BACKOFF_MAX)
            state["etag"] = state["last_modified"] = None  # a 304 would hide a fixed page
            self.dirty.add(url)
        for url in self._extracted:
            state = self.states.get(url)
            if state and (state.get("unextracted") or state.get("recheck_after")):
                state["unextracted"], state["recheck_after"] = 0, None
                self.dirty.add(url)
        if unextracted:
            self.crawler.stats.set_value("newsmon/incremental/unextracted", len(unextracted))
            shown = sorted(unextracted)[:5]
            logger.info("%d article pages of %s gave no article (%s%s); they are fetched again by a later "
                        "crawl (the next one, then backing off)", len(unextracted), self.site,
                        ", ".join(shown), ", ..." if len(unextracted) > len(shown) else "")

    # --- what the crawl learns ------------------------------------------------------------------

    def item_scraped(self, item: Any, response: Response) -> None:
        """An article's publication time drives the revisit policy: learn it from the item."""
        from crawler.items import Article

        if isinstance(item, Article) and response is not None:
            request = response.request
            url = (request.meta.get(_DECIDED_META) or request.url) if request else response.url
            self._extracted.add(url)
            self.note_published(url, item.published)

    # --- decisions -------------------------------------------------------------------------------

    def note_published(self, url: str, published: datetime | None) -> None:
        """Remember an article's publication time (the revisit policy depends on its age)."""
        state = self._state(url, "article")
        if published and state.get("published") != published:
            state["published"] = published
            self.dirty.add(url)

    def note_source_date(self, url: str, source_date: datetime) -> None:
        """Remember the newest sitemap/feed date seen for a URL already requested in this run."""
        state = self._state(url, "article")
        if state.get("source_date") is None or source_date > state["source_date"]:
            state["source_date"] = source_date
            self.dirty.add(url)

    def should_fetch_article(self, url: str, source_date: datetime | None = None) -> bool:
        """Whether an article URL is worth requesting in this run (unknown ones always are)."""
        state = self.states.get(url)
        now = datetime.now(UTC)
        if state is None or state.get("checked_at") is None:
            if source_date:
                self._state(url, "article")["source_date"] = source_date
                self.dirty.add(url)
            return True
        recheck = state.get("recheck_after")
        if recheck is not None and now >= recheck:
            self._count("recheck_unextracted")
            return True
        known_date = state.get("source_date")
        if source_date and (known_date is None or source_date > known_date):
            state["source_date"] = source_date
            self.dirty.add(url)
            if known_date is not None:
                self._count("source_changed")
                return True
        published = state.get("published")
        if published and now - published < self.revisit:
            wait = max(self.revisit_min, (now - published) / 4)
            if now - state["checked_at"] >= wait:
                self._count("revisit")
                return True
        if url not in self._skipped:  # one URL is linked from many pages: count it once
            self._skipped.add(url)
            self._count("skipped_known")
        return False

    # --- downloader middleware -------------------------------------------------------------------

    def process_request(self, request: Request) -> None:
        referer = request.headers.get("Referer")
        if referer and request.meta.get(KIND_META):
            self._referer.setdefault(request.url, referer.decode("latin-1"))
        if request.meta.get(KIND_META) == "article" and SOURCE_DATE_META in request.meta \
                and not request.meta.get(_DECIDED_META):
            self._decide_article(request)
        kind = request.meta.get(KIND_META)
        state = self.states.get(request.url) if kind and not request.meta.get(ALWAYS_FETCH_META) else None
        if not state:
            return
        if state.get("etag"):
            request.headers.setdefault("If-None-Match", state["etag"])
        if state.get("last_modified"):
            request.headers.setdefault("If-Modified-Since", state["last_modified"])
        if request.headers.get("If-None-Match") or request.headers.get("If-Modified-Since"):
            statuses = set(request.meta.get("handle_httpstatus_list", ())) | {304}
            request.meta["handle_httpstatus_list"] = sorted(statuses)

    def process_response(self, request: Request, response: Response) -> Response:
        kind = request.meta.get(KIND_META)
        if not kind or response.status not in (200, 304):
            return response
        if kind == "article":  # (under the URL it was decided by, whatever it redirected to)
            decided = request.meta.get(_DECIDED_META) or request.url
            self._answered.add(decided)
            if response.status == 200:
                self._fetched.add(decided)
        state = self._state(request.url, kind)
        now = datetime.now(UTC)
        state["checked_at"] = now
        if response.status == 304:
            self._count(f"not_modified/{kind}")
        else:
            etag = _header(response, "ETag")
            if etag is None or etag != state.get("etag"):
                state["changed_at"] = now
            state["etag"] = etag
            state["last_modified"] = _header(response, "Last-Modified")
        self.dirty.add(request.url)
        return response

    def _decide_article(self, request: Request) -> None:
        """Let an article request through, or skip it (``SkippedKnown``; the spider's errback
        accounts for it) when it is known and nothing says it changed."""
        url, source_date = request.url, request.meta.get(SOURCE_DATE_META)
        if url in self._requested:  # a second link to it (a newer date, or one sent first)
            if source_date is not None:  # fetched in this crawl already: only remember the date
                self.note_source_date(url, source_date)
            raise SkippedKnown(f"{url}: fetched in this crawl already")
        if not self.should_fetch_article(url, source_date):
            raise SkippedKnown(f"{url}: known and unchanged")
        self._requested.add(url)
        request.meta[_DECIDED_META] = url

    # --- helpers ---------------------------------------------------------------------------------

    def _state(self, url: str, kind: str) -> dict[str, Any]:
        state = self.states.get(url)
        if state is None:
            state = self.states[url] = {"url": url, "site": self.site, "kind": kind}
        return state

    def _count(self, key: str) -> None:
        self.crawler.stats.inc_value(f"newsmon/incremental/{key}")


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
