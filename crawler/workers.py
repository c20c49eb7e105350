"""Article page extraction, in the crawl process or in a pool of worker processes.

An article page costs ~15 ms of CPU to extract (parse, article fields, News Feed widget): on
the reactor thread that is most of a crawl's time, and one core stays idle. With
``EXTRACT_WORKERS = N`` (N >= 1) the spider sends each article page to one of N worker processes
and awaits the result; ``0`` extracts in the crawl process (a crawl: on one extraction thread,
never on the reactor's), as ``scrapy parse``/``check`` always do.

- Order: a page's items (its News Feed snippets, then its article) are yielded by its own
  callback once its result is back, as when extracting in process; across pages the order was
  never fixed (responses arrive as the network delivers them).
- Nothing lost: a worker that dies (``BrokenProcessPool``) costs no page: the pool is dropped,
  the page is extracted in process and so is every later one (``newsmon/workers/broken``).
- Shutdown: workers ignore SIGINT/SIGTERM (Ctrl-C reaches the whole process group; the crawl
  process decides when to stop); Scrapy lets the callbacks in flight finish and at
  ``spider_closed`` the pool is shut down and its processes joined.
- Processes come from a ``forkserver`` context: forking the reactor's process (threads, sockets,
  an event loop) is not safe, and ``spawn`` would import the extraction stack once per worker.

CPU spent in a worker is counted as ``newsmon/time/worker/<stage>_ms`` (in process:
``spider/<stage>``), so a crawl's stats account for all of its CPU.

Work ahead (``PageJob.ahead``): a worker also runs an article's body cleaning, content hash,
word count, MinHash signature and topic matching, with the clean, identity and topics stages' own
functions, and sends them back as ``crawler.items.Precomputed`` (``worker/ahead_ms``); each stage
uses a result only when the item's fields equal what the worker computed it from. A page the
crawl process extracts itself (the backlog) gets no work ahead: its stages do it. A page's result
carries only what the spider reads (not ``paragraphs``, a second copy of the body).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from crawler.items import Precomputed

__all__ = ["Ahead", "ExtractPool", "PageJob", "PageResult", "extract_page", "precompute"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ahead:
    """The settings work ahead needs: the clean stage's cap; topics' file (``topics`` False: off);
    identity's MinHash parameters."""

    max_body_chars: int
    topics: bool
    topics_file: Any = None  # a TOPICS_FILE value: None, a path or a tuple of them
    signing: tuple[int, int, float] | None = None  # DedupeConfig.article_signing; None: dedupe off


@dataclass(frozen=True)
class PageJob:
    """What extracting one article page needs (picklable: it crosses to a worker process)."""

    body: bytes
    url: str
    encoding: str | None
    selectors: Mapping[str, str]
    timezone: str
    locale: str | None
    fetched_at: datetime
    news_feed: Mapping[str, str] | None  # the profile's widget selectors, or None
    page_time: datetime
    ahead: Ahead | None = None  # clean and topics work to do ahead, or None


@dataclass
class PageResult:
    """``extract_article``'s dict, ``extract_news_feed``'s list, the job's fetch time, CPU ms per stage."""

    article: dict[str, Any]
    news_feed: list[dict[str, Any]]
    fetched_at: datetime
    cpu_ms: dict[str, float] = field(default_factory=dict)
    precomputed: Precomputed | None = None
    ahead_failed: str | None = None  # the exception type name, counted as workers/ahead_failed/<Type>


@functools.lru_cache(maxsize=4)
def _matcher(topics_file: Any) -> Any:
    """The worker's TopicMatcher for a TOPICS_FILE value, built once per process."""
    from crawler.topics.config import load_topics
    from crawler.topics.matcher import TopicMatcher

    return TopicMatcher(load_topics(list(topics_file) if isinstance(topics_file, tuple) else topics_file))


@functools.lru_cache(maxsize=4)
def _signer(signing: tuple[int, int, float]) -> Any:
    from pipelines.dedupe import article_signer

    return article_signer(*signing)


def precompute(article: Mapping[str, Any], ahead: Ahead) -> Precomputed | None:
    """The clean, identity (MinHash) and topics stages' work on an extracted article, by their own
    functions, from the fields the spider puts on the item (``NewsSpider._article_outputs``): None
    for a non-article."""
    if not article.get("is_article"):
        return None
    from crawler.topics.matcher import item_fields
    from pipelines.clean import article_hashes, clean_body, clean_line, clean_summary, strip_controls

    source = strip_controls(article.get("body") or "")  # what the stage's _scrub leaves
    body, truncated = clean_body(source, ahead.max_body_chars)
    title = clean_line(strip_controls(article.get("title") or ""))
    content_hash, words = article_hashes(title, body)
    fields = matches = None
    if ahead.topics:
        summary = clean_summary(strip_controls(s) if (s := article.get("summary")) else s)
        fields = item_fields({"title": title, "summary": summary, "body": body})
        matches = _matcher(ahead.topics_file).match(fields)
    signed = _signer(ahead.signing).compute(f"{title}\n{body}") if ahead.signing else None
    return Precomputed(ahead.max_body_chars, source, body, truncated, title, content_hash, words,
                       ahead.topics_file, fields, matches, ahead.signing, signed)


def extract_page(job: PageJob) -> PageResult:
    """Parse the page once and read both the article and the News Feed widget from it."""
    from crawler.extraction import extract_article, extract_news_feed
    from crawler.extraction.document import parse_html

    start = time.thread_time_ns()
    root = parse_html(job.body, job.encoding)
    parsed = time.thread_time_ns()
    # The widget first: the article extractor changes the tree in place (hidden nodes, boilerplate
    # dropped), the widget reader leaves it as parsed (keep_tree).
    feed: list[dict[str, Any]] = []
    if job.news_feed and root is not None:
        feed = extract_news_feed(job.body, job.url, selectors=job.news_feed, timezone=job.timezone,
                                 page_time=job.page_time, headers_encoding=job.encoding, root=root,
                                 keep_tree=True)
    middle = time.thread_time_ns()
    article = extract_article(job.body, job.url, selectors=job.selectors, timezone=job.timezone,
                              headers_encoding=job.encoding, fetched_at=job.fetched_at,
                              locale=job.locale, root=root)
    end = time.thread_time_ns()
    cpu_ms = {"extract": (parsed - start + end - middle) / 1e6, "news_feed": (middle - parsed) / 1e6}
    pre, failed = None, None
    if job.ahead is not None:
        try:
            pre = precompute(article, job.ahead)
        except Exception as exc:  # noqa: BLE001 - optional work: the stages redo it and report errors
            failed = type(exc).__name__
        cpu_ms["ahead"] = (time.thread_time_ns() - end) / 1e6
    article.pop("paragraphs", None)  # the body again, in pieces: the spider does not read it
    return PageResult(article, feed, job.fetched_at, cpu_ms, pre, failed)


def _start_worker(crawl_pid: int, ahead: Ahead | None = None) -> None:
    """Worker initializer: the crawl process alone decides when to stop (see the module doc),
    and the worker ends with it. A SIGKILLed crawl (the OOM killer) gives no EOF to read: the
    worker holds its own call queue's write end, and the forkserver lives while any child holds
    its "alive" pipe, so both would run on for good. A daemon thread waits for the crawl to exit.
    With ``ahead`` (topics on), the worker's topic matcher is built here, before its first page."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(crawl_pid,), name="newsmon-crawl-watch", daemon=True).start()
    if ahead is not None and ahead.topics:
        try:
            _matcher(ahead.topics_file)
        except Exception:  # noqa: BLE001 - precompute meets it again, and the stages redo the work
            logger.debug("Topic matcher not built ahead", exc_info=True)


def _ready() -> None:
    """A no-op job: submitted once per worker by ``ExtractPool.start`` to start the processes."""


def _exit_with(pid: int) -> None:
    import select

    try:
        fd = os.pidfd_open(pid)  # Linux >= 5.3: readable once the process has exited
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        select.select([fd], [], [])
    else:  # elsewhere: poll
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                pass
            time.sleep(2)
    os._exit(0)


class ExtractPool:
    """``EXTRACT_WORKERS`` worker processes, started with the crawl (``start``) or at the first
    page, joined at spider_closed."""

    def __init__(self, workers: int, crawler: Any = None, backlog: int = 0) -> None:
        self.workers = workers
        self.crawler = crawler  # its stats exist only once the crawl starts
        # Pages per worker sent and not back yet, beyond which a page is extracted in this process
        # (EXTRACT_WORKERS_BACKLOG; 0 = never): the crawl process waits idle on a worker that has a
        # queue of pages, most of all on a shared machine, where the worker gets less than a core.
        self.backlog = backlog
        # Pages sent and not finished by a worker yet. Decremented by the pool's own thread when a
        # worker returns a page, not when the reactor gets round to the result: while this process
        # extracts a page itself the reactor collects no results, and a count kept there would
        # still hold pages the worker finished long ago, so the worker would starve.
        self._in_flight = 0
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        # The one thread that extracts the pages this process takes itself (``submit``): off the
        # reactor thread, which must stay free to read responses. A page's extraction may take
        # seconds (a 400,000-character body, the first date that imports dateparser) and Twisted
        # runs a due timer before the I/O that arrived meanwhile, so a blocked reactor turns
        # answered requests into DOWNLOAD_TIMEOUT failures, and their retries (dont_filter)
        # follow redirect loops the dupefilter would have closed. One thread: pages queue for it
        # in order instead of fighting over the GIL.
        self._local: ThreadPoolExecutor | None = None
        # Pages at that thread: past the backlog a page goes to it only when it is idle, as when
        # it ran on the reactor and no other page could arrive meanwhile; else it waits in
        # ``_waiting`` for whichever frees first, a worker's backlog or the thread. Deciding at
        # arrival instead sent ~9 pages in 10 to the workers' queue: pages arrive in bursts (a
        # stored batch frees the scraper's slot for many downloads at once), and only the first
        # of a burst found the thread idle, which then idled while the worker had 40 queued.
        self._local_pending = 0
        self._waiting: collections.deque[asyncio.Future[str]] = collections.deque()
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExtractPool:
        from scrapy import signals

        from crawler.checks import check_setting

        settings = crawler.settings
        pool = cls(check_setting(settings, "EXTRACT_WORKERS"), crawler, check_setting(settings, "EXTRACT_WORKERS_BACKLOG"))
        crawler.signals.connect(pool.close, signals.spider_closed)
        return pool

    @property
    def enabled(self) -> bool:
        return self.workers > 0

    def start(self, ahead: Ahead | None = None) -> None:
        """Start the workers now, at the crawl's start, rather than at the first article page:
        each imports the extraction stack and builds the job's topic matcher (~1 s of CPU) while
        the first listings download, instead of holding back the first pages."""
        executor = self._pool(ahead)
        if executor is not None:
            for _ in range(self.workers):  # each submit to a pool with no idle worker starts one
                executor.submit(_ready)

    def extract(self, job: PageJob) -> PageResult:
        """Extract in this process (CPU counted as ``spider/<stage>``), without the work ahead:
        the clean and topics stages of this process do that work themselves, with their own
        matcher, where ``precompute`` would build a second one here (~1 s of CPU) for no gain."""
        return self._counted(extract_page(replace(job, ahead=None)), "spider")

    async def submit(self, job: PageJob) -> PageResult:
        """Extract in a worker process; in this one (on its extraction thread, never on the
        reactor's) if the pool is off or broken, or when the workers have ``backlog`` pages each
        and that thread is idle; while neither, the page waits for the first of them to free."""
        executor = self._pool()
        if executor is None:
            return await self._extract_in_thread(job)
        self._loop = asyncio.get_running_loop()
        where = self._claim()
        if where is None:
            go: asyncio.Future[str] = self._loop.create_future()
            self._waiting.append(go)
            try:
                where = await go
            except asyncio.CancelledError:
                if go.done() and not go.cancelled():  # claimed for this page, which will not come
                    self._release(go.result())
                raise
        if where == "local":
            self._inc("newsmon/workers/in_process")
            return await self._extract_in_thread(job, claimed=True)
        future = None
        try:
            future = executor.submit(extract_page, job)
            future.add_done_callback(self._worker_done)  # at once if it is done already
            result = await asyncio.wrap_future(future)
        except BrokenProcessPool:
            if self._executor is executor:  # the first page to meet it reports it
                logger.error("An extraction worker died: extracting in the crawl process from now on")
                self._inc("newsmon/workers/broken")
                self.workers = 0
                self._executor = None
                executor.shutdown(wait=False, cancel_futures=True)
                self._dispatch()  # the pages waiting go to the thread
            return await self._extract_in_thread(job)
        finally:
            if future is None:  # submit itself failed: the page never reached a worker
                self._worker_done(None)
        return self._counted(result, "worker")

    def _claim(self) -> str | None:
        """A place for one page, reserved (on the reactor thread): ``"worker"`` while the workers
        have fewer than ``backlog`` pages each (always, with no backlog), ``"local"`` when the
        pool is gone or the extraction thread is idle, else None."""
        if self._executor is None:
            self._local_pending += 1
            return "local"
        with self._lock:
            if not self.backlog or self._in_flight < self.backlog * self.workers:
                self._in_flight += 1
                return "worker"
        if not self._local_pending:
            self._local_pending += 1
            return "local"
        return None

    def _release(self, where: str) -> None:
        """Give back a place ``_claim`` reserved, and hand it to a waiting page."""
        if where == "worker":
            self._worker_done(None)
        else:
            self._local_pending -= 1
            self._dispatch()

    def _dispatch(self) -> None:
        """Give waiting pages the places that freed (on the reactor thread)."""
        while self._waiting:
            if self._waiting[0].done():  # its crawl was cancelled meanwhile
                self._waiting.popleft()
                continue
            where = self._claim()
            if where is None:
                return
            self._waiting.popleft().set_result(where)

    async def _extract_in_thread(self, job: PageJob, *, claimed: bool = False) -> PageResult:
        """``extract`` on this process's extraction thread; its stats counted back on the reactor's."""
        if self._local is None:
            self._local = ThreadPoolExecutor(1, thread_name_prefix="newsmon-extract")
        if not claimed:
            self._local_pending += 1  # on the reactor thread only, as is every read of it
        try:
            result = await asyncio.wrap_future(self._local.submit(extract_page, replace(job, ahead=None)))
        finally:
            self._release("local")
        return self._counted(result, "spider")

    def _worker_done(self, future: Any) -> None:
        """A page left the workers (done, failed or cancelled): called on the pool's thread. The
        count drops at once, not when the reactor gets round to the result; a page waiting for
        the freed place is handed it on the reactor's thread."""
        with self._lock:
            self._in_flight -= 1
        loop = self._loop
        if self._waiting and loop is not None:
            try:
                loop.call_soon_threadsafe(self._dispatch)
            except RuntimeError:  # the loop closed meanwhile: the crawl is over
                pass

    def close(self) -> None:
        """Shut the pool down and join its processes (idle by now: Scrapy waited for callbacks)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        local, self._local = self._local, None
        if local is not None:  # idle as well: its pages' callbacks have finished
            local.shutdown(wait=True)

    def _pool(self, ahead: Ahead | None = None) -> ProcessPoolExecutor | None:
        if self._executor is None and self.workers > 0:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["crawler.workers", "crawler.extraction"])
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context,
                                                 initializer=_start_worker, initargs=(os.getpid(), ahead))
            logger.info("Extracting article pages in %d worker process(es)", self.workers)
        return self._executor

    def _counted(self, result: PageResult, where: str) -> PageResult:
        for stage, ms in result.cpu_ms.items():
            self._inc(f"newsmon/time/{where}/{stage}_ms", ms)
        if result.ahead_failed:
            self._inc(f"newsmon/workers/ahead_failed/{result.ahead_failed}")
        return result

    def _inc(self, key: str, value: float = 1) -> None:
        if self.crawler is not None:
            self.crawler.stats.inc_value(key, value)
