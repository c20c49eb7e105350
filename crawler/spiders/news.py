"""The one generic news spider: sections with pagination, RSS/Atom feeds and sitemaps.

Every page it fetches is an article candidate or a listing. Article pages go through
``crawler.extraction.extract_article``; every HTML page also has its News Feed widget read
(``extract_news_feed``), since the widget sits beside every article. What happens is counted in
the stats under ``newsmon/pages/...``, ``newsmon/errors/...`` and ``newsmon/items/...``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from dateutil import parser as dateparser
from scrapy.exceptions import CloseSpider
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from crawler.errors import ConfigError
from crawler.incremental import ALWAYS_FETCH_META, KIND_META, RECHECK_META, SOURCE_DATE_META, SkippedKnown
from crawler.timing import cpu_timer
from crawler.workers import Ahead, ExtractPool, PageJob, PageResult
from crawler.items import Article, FeedSnippet, attach_precomputed
from crawler.profiles import SiteProfile
from pipelines.repeats import Repeats
from pipelines.urls import canonical_url

__all__ = ["CrawlLimits", "NewsSpider"]

logger = logging.getLogger(__name__)


def _positive_int(name: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"-a {name}={value!r}: must be a whole number") from None
    if number < 1:
        raise ConfigError(f"-a {name}={value!r}: must be at least 1")
    return number


def parse_since(value: Any) -> datetime | None:
    """``-a since=``: an ISO date/datetime (naive = UTC) or a duration before now (``7d``), aware UTC."""
    if value in (None, ""):
        return None
    from crawler.when import parse_since as parse

    return parse(str(value), label="-a since=")


@dataclass(frozen=True)
class CrawlLimits:
    """The spider arguments that bound a crawl (``-a max_pages=… -a max_articles=… -a since=…``)."""

    max_pages: int | None = None  # listing pages per section (overrides the profile)
    max_articles: int | None = None  # article pages requested in this crawl
    since: datetime | None = None  # articles published before this are not stored

    @property
    def bounded(self) -> bool:
        """Whether any limit is set: such a crawl may leave linked articles unfetched."""
        return any(v is not None for v in (self.max_pages, self.max_articles, self.since))

    @classmethod
    def from_args(cls, **kwargs: Any) -> CrawlLimits:
        return cls(
            max_pages=_positive_int("max_pages", kwargs.get("max_pages")),
            max_articles=_positive_int("max_articles", kwargs.get("max_articles")),
            since=parse_since(kwargs.get("since")),
        )


_NO_BODY_REASONS = frozenset({"empty", "no_body", "no_title"})  # auto-render triggers on articles

SPIDER_ARGUMENTS = frozenset({"max_pages", "max_articles", "since", "base_url"})


def check_spider_arguments(args: dict[str, Any]) -> None:
    """Raise ConfigError for unknown or malformed ``-a`` arguments (before a crawl starts)."""
    unknown = sorted(set(args) - SPIDER_ARGUMENTS)
    if unknown:
        raise ConfigError(
            f"unknown spider argument -a {unknown[0]}=…; known: {', '.join(sorted(SPIDER_ARGUMENTS))}"
        )
    CrawlLimits.from_args(**args)
    base_url = args.get("base_url")
    if base_url and not str(base_url).startswith(("http://", "https://")):
        raise ConfigError(f"-a base_url={base_url!r}: must be an http(s) URL")


def _parse_date(text: str | None) -> datetime | None:
    """A feed or sitemap date as aware UTC (naive = UTC), or None if absent or unreadable."""
    if not text:
        return None
    try:
        when = dateparser.parse(text)
    except (ValueError, OverflowError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


class NewsSpider(scrapy.Spider):
    """Crawl one site as its profile describes."""

    name = "news"
    profile: ClassVar[SiteProfile]

    def __init__(self, *args: Any, base_url: str | None = None, **kwargs: Any) -> None:
        limits = CrawlLimits.from_args(**kwargs)
        for key in ("max_pages", "max_articles", "since"):
            kwargs.pop(key, None)
        super().__init__(*args, **kwargs)
        if base_url:
            # An instance attribute shadows the class's profile: the demo site's port varies.
            self.profile = self.profile.with_base_url(base_url if base_url.endswith("/") else base_url + "/")
        self.limits = limits
        self.allowed_domains = list(self.profile.allowed_domains)
        # canonical article URL -> the newest sitemap/feed date it was requested with (None: undated)
        self._article_urls_seen: dict[str, datetime | None] = {}
        self._link_sections: dict[str, str] = {}  # canonical article URL -> the listing's section
        self._articles_stored = 0  # Article items yielded (max_articles counts these)
        self._articles_in_flight = 0
        self._article_backlog: list[tuple[str, str | None, int, datetime | None, bool]] = []
        self.extractor = ExtractPool(0)  # in process; from_crawler reads EXTRACT_WORKERS

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.extractor = ExtractPool.from_crawler(crawler)  # crawler/workers.py: EXTRACT_WORKERS
        return spider

    # --- start -----------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        if self.profile.render.enabled:
            from crawler.render import render_problem

            problem = render_problem(self.profile, self.crawler.settings)
            if problem:
                logger.error("%s", problem)
                self.crawler.stats.set_value("newsmon/render/unavailable", problem)
                raise CloseSpider("render_unavailable")
        if self.extractor.enabled:  # the workers start up while the first listings download
            self.extractor.start(self._ahead)
        for section, url in self.profile.sections:
            yield scrapy.Request(url, callback=self.parse_listing, errback=self.on_error,
                                 cb_kwargs={"section": section, "page": 1, "listing_url": url},
                                 meta=self._meta("listing", url), priority=100)
        for url in self.profile.feeds:
            yield scrapy.Request(url, callback=self.parse_feed, errback=self.on_error,
                                 meta={KIND_META: "feed"}, priority=100)
        for url in self.profile.sitemaps:
            yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.on_error,
                                 meta={KIND_META: "sitemap", ALWAYS_FETCH_META: True}, priority=100)

    # --- a page fetched without a callback (`scrapy parse URL`) ------------------------------------

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """Route a page to the callback its URL and content call for: feed, sitemap, article or
        listing (Scrapy's default callback; the crawl itself always names one)."""
        # An XML document's root says what it is; an HTML page is never a feed or a sitemap.
        head = b"" if isinstance(response, HtmlResponse) else response.body[:2048].lower()
        path = urlsplit(response.url).path
        if self._matches(path, self.profile.sitemaps) or b"<urlset" in head or b"<sitemapindex" in head:
            return self.parse_sitemap(response)
        if self._matches(path, self.profile.feeds) or b"<rss" in head or b"<feed" in head:
            return self.parse_feed(response)
        if self.profile.is_article_url(response.url):
            return self.parse_article(response)
        section = next((name for name, url in self.profile.sections if urlsplit(url).path == path), None)
        return self.parse_listing(response, section=section)

    @staticmethod
    def _matches(path: str, urls: tuple[str, ...]) -> bool:
        return any(urlsplit(url).path == path for url in urls)

    # --- listings, feeds, sitemaps ---------------------------------------------------------------

    def parse_listing(self, response: Response, section: str | None = None, page: int = 1,
                      listing_url: str | None = None) -> Iterator[Any]:
        """A section or tag listing: article links, then the next page within the page limit.

        @profile_url listing
        @returns requests 1
        """
        listing_url = listing_url or response.url
        self._count("pages/listing")
        if response.status == 304:
            return  # unchanged since the last run: its older pages are unchanged too
        if not isinstance(response, TextResponse):
            self._count("pages/not_html")
            return
        self._note_rendered(response)
        with cpu_timer(self.crawler.stats, "spider/links"):
            links = [url for href in response.css("a::attr(href)").getall()
                     if self.profile.is_article_url(url := response.urljoin(href))]
        snippets = self._snippet_items(response)
        retry = self._render_fallback(response, "listing", links=not links,
                                      news_feed=not snippets)
        if retry:
            yield retry
            return
        yield from self._counted(snippets)
        article_links = 0
        for url in links:
            article_links += 1
            # Newest first: listing order stands in for dates (a page is roughly a day).
            yield from self._article_request(url, section=section,
                                             priority=-24 * (page - 1) - article_links // 10)
        if not article_links:
            self._count("pages/listing_without_articles")
            return
        max_pages = self.limits.max_pages or self.profile.pagination.max_pages
        if page >= max_pages:
            return
        next_url = self._next_page_url(response, listing_url, page)
        if next_url:
            next_url = response.urljoin(next_url)
            yield scrapy.Request(next_url, callback=self.parse_listing, errback=self.on_error,
                                 cb_kwargs={"section": section, "page": page + 1,
                                            "listing_url": listing_url},
                                 meta=self._meta("listing", next_url), priority=100)

    def _next_page_url(self, response: TextResponse, listing_url: str, page: int) -> str | None:
        pagination = self.profile.pagination
        if pagination.next_selector:
            href = response.css(pagination.next_selector).get()
            if href:
                return response.urljoin(href.strip())
        if pagination.url_template:
            # A template cannot know where a listing ends: it is followed only while the current
            # page still had article links (the caller checks), and an empty or 404 page stops it.
            return pagination.url_template.format(section=listing_url, page=page + 1)
        return None

    def parse_feed(self, response: Response) -> Iterator[Any]:
        """An RSS 2.0 or Atom feed: one article request per item, skipping items older than since."""
        self._count("pages/feed")
        if response.status == 304:
            return
        if not isinstance(response, TextResponse):
            self._count("errors/bad_feed")
            return
        selector = scrapy.Selector(response=response, type="xml")
        selector.remove_namespaces()
        entries = selector.xpath("//item | //entry")
        if not entries and not selector.xpath("/rss | /feed | /RDF"):
            self._count("errors/bad_feed")
            logger.warning("Not an RSS/Atom feed: %s", response.url)
            return
        for entry in entries:
            link = (entry.xpath("link/@href").get() or entry.xpath("link/text()").get() or "").strip()
            if not link:
                continue
            date_text = entry.xpath("updated/text() | pubDate/text() | published/text()").get()
            when = _parse_date(date_text)
            if self.limits.since and when and when < self.limits.since:
                self._count("articles/skipped_before_since")
                continue
            url = response.urljoin(link)
            if self.profile.is_article_url(url):
                yield from self._article_request(url, section=None, source_date=when)

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        """A sitemap or sitemap index (nested indexes followed)."""
        self._count("pages/sitemap")
        if response.status == 304:
            return
        try:
            sitemap = Sitemap(response.body)
        except Exception:  # lxml raises several types for a broken document
            self._count("errors/bad_sitemap")
            logger.warning("Not a sitemap: %s", response.url)
            return
        for entry in sitemap:
            loc = entry.get("loc", "").strip()
            if not loc:
                continue
            url = response.urljoin(loc)
            if sitemap.type == "sitemapindex":
                yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.on_error,
                                     meta={KIND_META: "sitemap"}, priority=100)
                continue
            when = _parse_date(entry.get("lastmod"))
            if self.limits.since and when and when < self.limits.since:
                self._count("articles/skipped_before_since")
            elif self.profile.is_article_url(url):
                yield from self._article_request(url, section=None, source_date=when)

    # --- articles --------------------------------------------------------------------------------

    @cached_property
    def _rechecks(self) -> bool:
        """Whether a link met again with a newer date is sent again: only for the incremental
        middleware to decide on (without it every article is fetched once anyway)."""
        from crawler.incremental import incremental_on

        return incremental_on(self.settings)

    @cached_property
    def _trailing_slash(self) -> str:
        """The site's slash policy, read once (it is needed for every article link)."""
        from crawler.dupefilter import trailing_slash_policy

        return trailing_slash_policy(self.crawler.settings, self.name)

    def _article_request(self, url: str, section: str | None, source_date: datetime | None = None,
                         priority: int | None = None) -> Iterator[scrapy.Request]:
        # The same canonical form as the dupefilter's: a variant it would drop is never requested
        # (a dropped request never calls back, which would leave max_articles counting it).
        # Whether a known article is worth fetching again is the incremental middleware's call
        # (crawler/incremental.py), made from the date this request carries; a link met again
        # with a newer sitemap/feed date goes out once more, so that call is made with it.
        key = canonical_url(url, trailing_slash=self._trailing_slash)
        if section:  # a listing names the section, whichever link is followed first
            self._link_sections.setdefault(key, section)
        recheck = key in self._article_urls_seen
        if recheck:
            sent = self._article_urls_seen[key]
            if not self._rechecks or source_date is None or (sent is not None and source_date <= sent):
                return
        self._article_urls_seen[key] = source_date
        if priority is None:
            # Newest first, so a run cut short by its limits has the latest news: dated links
            # by their age in hours, undated ones behind the first listing page's.
            priority = -int((datetime.now(UTC) - source_date).total_seconds() // 3600) \
                if source_date else -24
        cap = self.limits.max_articles
        if cap is not None and self._articles_stored + self._articles_in_flight >= cap:
            # Held back, not dropped: if a page in flight turns out not to be an article
            # (404, soft 404), the next held-back URL takes its place.
            self._article_backlog.append((url, section, priority, source_date, recheck))
            return
        self._articles_in_flight += 1
        yield self._article_page_request(url, section, priority, source_date, recheck)

    def _article_page_request(self, url: str, section: str | None, priority: int,
                              source_date: datetime | None = None, recheck: bool = False) -> scrapy.Request:
        meta = self._meta("article", url)
        meta[SOURCE_DATE_META] = source_date
        if recheck:
            meta[RECHECK_META] = True
        return scrapy.Request(url, callback=self.parse_article_pooled, errback=self.on_article_error,
                              cb_kwargs={"section": section}, meta=meta,
                              priority=max(-(10**6), priority), dont_filter=recheck)

    def _article_done(self, stored: bool) -> Iterator[scrapy.Request]:
        """Account for a finished article request and release held-back URLs into its place."""
        self._articles_in_flight -= 1
        self._articles_stored += stored
        cap = self.limits.max_articles
        while self._article_backlog and cap is not None and \
                self._articles_stored + self._articles_in_flight < cap:
            url, section, priority, source_date, recheck = self._article_backlog.pop(0)
            self._articles_in_flight += 1
            yield self._article_page_request(url, section, priority, source_date, recheck)

    def on_article_error(self, failure: Failure) -> Iterator[scrapy.Request]:
        if not failure.check(SkippedKnown):  # the incremental middleware skipped a known page
            self.on_error(failure)
        yield from self._article_done(stored=False)

    def parse_article(self, response: Response, section: str | None = None) -> Iterator[Any]:
        """An article candidate: an Article item if it is one, and its News Feed snippets.

        @profile_url article
        @article url title body published
        """
        page = self.extractor.extract(self._page_job(response)) if self._extractable(response) else None
        yield from self._accounted(self._article_outputs(response, section, page))

    async def parse_article_pooled(self, response: Response, section: str | None = None) -> AsyncIterator[Any]:
        """``parse_article`` as a crawl runs it: the page extracted in a worker process
        (``EXTRACT_WORKERS``) or on this process's extraction thread, never on the reactor's."""
        page = await self.extractor.submit(self._page_job(response)) if self._extractable(response) else None
        for output in self._accounted(self._article_outputs(response, section, page)):
            yield output

    def _accounted(self, outputs: Iterator[Any]) -> Iterator[Any]:
        stored = retried = False
        for output in outputs:
            stored = stored or isinstance(output, Article)
            retried = retried or isinstance(output, scrapy.Request)  # the auto-render re-request
            yield output
        if not retried:  # a re-request stays in flight: it is accounted for when it finishes
            yield from self._article_done(stored)

    @staticmethod
    def _extractable(response: Response) -> bool:
        return response.status != 304 and isinstance(response, TextResponse) and bool(response.body.strip())

    def _page_job(self, response: Response) -> PageJob:
        fetched_at = datetime.now(UTC)
        return PageJob(
            body=response.body, url=response.url, encoding=response.encoding,  # type: ignore[attr-defined]
            selectors=dict(self.profile.selectors), timezone=self.profile.timezone, locale=self.profile.locale,
            fetched_at=fetched_at, news_feed=dict(self.profile.news_feed) or None,
            page_time=self._page_time(response, fetched_at),
            ahead=self._ahead if self.extractor.enabled else None,
        )

    @cached_property
    def _ahead(self) -> Ahead | None:
        """The clean and topics work a worker does ahead (crawler/workers.py); None with cleaning off."""
        from crawler.checks import check_setting
        from pipelines.clean import max_body_chars
        from pipelines.dedupe import DedupeConfig

        settings = self.crawler.settings
        if not check_setting(settings, "CLEAN_ENABLED"):
            return None
        topics_file = settings.get("TOPICS_FILE")
        if isinstance(topics_file, list):
            topics_file = tuple(topics_file)  # hashable: the worker keeps one matcher per value
        dedupe = DedupeConfig.from_settings(settings)
        return Ahead(max_body_chars(settings), bool(check_setting(settings, "TOPICS_ENABLED")), topics_file,
                     dedupe.article_signing if dedupe.enabled else None)

    def _article_outputs(self, response: Response, section: str | None, page: PageResult | None) -> Iterator[Any]:
        if response.status == 304:
            self._count("articles/not_modified")
            return
        if page is None:  # not text, or an empty body
            retry = self._render_fallback(response, "article", body=True)
            if retry:
                yield retry
                return
            self._count("pages/not_article/empty")
            return
        self._note_rendered(response)
        result = page.article
        fetched_at = page.fetched_at
        snippets = self._snippets(response, page.news_feed, fetched_at)
        no_body = not result.get("is_article") and result.get("reason") in _NO_BODY_REASONS
        retry = self._render_fallback(response, "article", body=no_body, news_feed=not snippets)
        if retry:
            yield retry
            return
        yield from self._counted(snippets)
        if not result.get("is_article"):
            self._count(f"pages/not_article/{result.get('reason') or 'unknown'}")
            return
        self._count("pages/article")
        published = result.get("published")
        if self.limits.since and published and published < self.limits.since:
            self._count("articles/skipped_before_since")
            return
        article = Article(
            url=result.get("canonical_url") or response.url,
            fetched_url=response.url,
            site=self.name,
            title=result.get("title") or "",
            body=result.get("body") or "",
            section=result.get("section") or section or self._link_sections.get(
                canonical_url(response.request.url if response.request else response.url,
                              trailing_slash=self._trailing_slash)),
            authors=list(result.get("authors") or []),
            byline_org=list(result.get("byline_org") or []),
            published=published,
            modified=result.get("modified"),
            summary=result.get("summary"),
            image_url=result.get("image_url"),
            image_caption=result.get("image_caption"),
            image_credit=result.get("image_credit"),
            tags=list(result.get("tags") or []),
            language=result.get("language") or self.profile.language,
            fetched_at=fetched_at,
            confidence=dict(result.get("confidence") or {}),
        )
        attach_precomputed(article, page.precomputed)
        yield article

    # --- News Feed widget ------------------------------------------------------------------------

    def _snippet_items(self, response: TextResponse) -> list[FeedSnippet]:
        """The page's News Feed items (none when the profile has no widget): listing pages."""
        if not self.profile.news_feed:
            return []
        from crawler.extraction import extract_news_feed

        fetched_at = datetime.now(UTC)
        with cpu_timer(self.crawler.stats, "spider/news_feed"):
            items = extract_news_feed(
                response.text, response.url, selectors=self.profile.news_feed,
                timezone=self.profile.timezone, page_time=self._page_time(response, fetched_at),
            )
        return self._snippets(response, items, fetched_at)

    def _snippets(self, response: Response, items: list[dict[str, Any]], fetched_at: datetime) -> list[FeedSnippet]:
        return [
            FeedSnippet(
                site=self.name, headline=item.get("headline") or "", text=item.get("text") or "",
                published=item.get("published"), time_shown=item.get("time_shown") or "",
                url=item.get("url"), seen_on=[response.url], fetched_at=fetched_at,
            )
            for item in items
        ]

    def _counted(self, snippets: list[FeedSnippet]) -> Iterator[FeedSnippet]:
        """The page's snippets to send as items: with the store stage gathering repeats
        (pipelines/repeats.py), only those not sent already in this crawl."""
        if not snippets:
            return
        self._count_n("snippets/extracted", len(snippets))  # one stats call per page, not per snippet
        repeats = Repeats.of(self.crawler)
        if repeats is not None:
            sent = [s for s in snippets if not repeats.gather(s)]
            if len(sent) < len(snippets):
                self._count_n("snippets/repeats/gathered", len(snippets) - len(sent))
            snippets = sent
        yield from snippets

    # --- rendering (crawler/render.py) ------------------------------------------------------------

    def _meta(self, kind: str, url: str) -> dict[str, Any]:
        """Request.meta for a listing or article request: rendered when the profile says always."""
        meta: dict[str, Any] = {KIND_META: kind}
        rule = self.profile.render
        if rule.mode == "always" and rule.selects(kind, url):
            meta.update(self._render_meta(kind))
        return meta

    def _render_meta(self, kind: str) -> dict[str, Any]:
        from crawler.render import render_meta

        meta = render_meta(self.profile.render.actions_for(kind),
                           self.crawler.settings.getfloat("RENDER_TIMEOUT", 20.0))
        # The browser must get the whole page: no conditional GET (a 304 would render blank).
        meta[ALWAYS_FETCH_META] = True
        return meta

    def _render_fallback(self, response: Response, kind: str, **missing: bool) -> scrapy.Request | None:
        """In ``render = "auto"``: the same request through the browser when the static page lacks
        what the profile expects (``missing``: trigger -> whether it is missing), else None."""
        rule = self.profile.render
        request = response.request
        if rule.mode != "auto" or request is None:
            return None  # before the import: crawler.render imports Playwright (~0.4 s of CPU)
        from crawler.render import FALLBACK_META, RENDER_META

        if request.meta.get(RENDER_META) or response.status != 200 or not rule.selects(kind, request.url):
            return None
        if "news_feed" in missing and not self.profile.news_feed:
            missing["news_feed"] = False  # no widget in the profile: nothing to expect
        fired = sorted(t for t, is_missing in missing.items() if is_missing and t in rule.fallback_on)
        if not fired:
            return None
        self._count("render/auto_fallback")
        for trigger in fired:
            self._count(f"render/auto_fallback/{trigger}")
        logger.debug("Static page lacks %s, rendering it: %s", ", ".join(fired), request.url)
        meta = {k: v for k, v in request.meta.items() if k in (KIND_META,)}
        meta.update(self._render_meta(kind))
        meta[FALLBACK_META] = fired[0]
        headers = request.headers.copy()
        for name in ("If-None-Match", "If-Modified-Since"):  # set by the plain fetch's conditional GET
            headers.pop(name, None)
        return request.replace(meta=meta, headers=headers, dont_filter=True)

    def _note_rendered(self, response: Response) -> None:
        """Count what a rendered page's actions did (clicks, scrolls, missed waits)."""
        if response.request is None or "playwright" not in response.flags:
            return
        from crawler.render import page_action_results

        for key, value in page_action_results(response.meta).items():
            if value:
                self._count_n(f"render/{key}", value)

    @staticmethod
    def _page_time(response: Response, fetched_at: datetime) -> datetime:
        """The page's own clock (HTTP Date header), else the fetch time: the widget's date context."""
        header = response.headers.get("Date")
        if header:
            try:
                return parsedate_to_datetime(header.decode("latin-1")).astimezone(UTC)
            except (TypeError, ValueError):
                pass
        return fetched_at

    # --- bookkeeping -----------------------------------------------------------------------------

    def closed(self, reason: str) -> None:
        if self._article_backlog:
            self._count_n("articles/skipped_max_articles", len(self._article_backlog))

    def on_error(self, failure: Failure) -> None:
        """Count a failed request by HTTP status or exception type; the crawl goes on."""
        if failure.check(HttpError):
            status = failure.value.response.status
            self._count(f"errors/http_{status}")
            logger.info("HTTP %s: %s", status, failure.value.response.url)
        else:
            self._count(f"errors/{failure.type.__name__}")
            logger.warning("Request failed: %s: %s", failure.request.url if hasattr(failure, "request") else "?",
                           failure.getErrorMessage())

    def _count(self, key: str) -> None:
        self.crawler.stats.inc_value(f"newsmon/{key}")

    def _count_n(self, key: str, count: int) -> None:
        self.crawler.stats.inc_value(f"newsmon/{key}", count)
