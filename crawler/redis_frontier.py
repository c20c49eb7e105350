"""One frontier for several workers crawling one site: scrapy-redis, plus in-flight recovery.

``REDIS_SHARED_CRAWL`` (``newsmon crawl SITE --shared``) swaps Scrapy's scheduler for
``SharedScheduler``: every worker started on the site pops requests from one Redis sorted set and
filters them through one fingerprint set (the canonical-URL fingerprints of
``crawler.dupefilter``), so a page is fetched once whichever worker found its link. Each worker
runs the spider's own ``async def start``; the shared dupefilter drops the seeds a second worker
yields, so no scrapy-redis ``RedisSpider`` (and no seeding step) is needed.

scrapy-redis alone forgets a request once popped: a worker killed mid-crawl loses what it was
fetching (its fingerprints stay in the set, so nobody fetches those pages again). Here a pop moves
the request, atomically (a Lua script), into the worker's in-flight hash, and:

    done       a response's callback output has been scheduled (``FrontierAck`` middleware) and
               ``2 × STORE_FLUSH_SECONDS + 1`` s have passed, the time by which the store has
               written the items it buffered: the entry is deleted
    idle       the worker's engine is idle (nothing downloading or scraping): what is left in its
               hash is finished work (errbacks, dropped requests) and is deleted
    dead       the worker's heartbeat key (renewed every third of ``REDIS_WORKER_TTL``) expired:
               any other worker moves its in-flight hash back into the queue and fetches it again

A worker with an empty queue waits (does not close) while another live worker has requests in
flight, because that worker may yield new links or die. The last worker out deletes the site's
keys, so the next shared crawl starts from the seeds again. Redis calls are short, local
round trips made on the reactor thread, as scrapy-redis makes them.

Keys: ``newsmon:frontier:<site>:{requests,dupefilter,inflight:<worker>,alive:<worker>}``.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.misc import build_from_crawler
from scrapy_redis import picklecompat  # type: ignore[import-untyped]  # pickle: callbacks by name
from scrapy_redis.queue import PriorityQueue  # type: ignore[import-untyped]
from scrapy_redis.scheduler import Scheduler as RedisScheduler  # type: ignore[import-untyped]
from twisted.internet import task

from crawler.dupefilter import CanonicalDupeFilter
from crawler.incremental import RECHECK_META

if TYPE_CHECKING:
    from redis import Redis
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import Settings

__all__ = ["FrontierAck", "SharedDupeFilter", "SharedFrontier", "SharedScheduler", "frontier_keys"]

logger = logging.getLogger(__name__)

TOKEN_META = "newsmon_frontier_token"  # the request's in-flight entry (its encoded form)

# Pop the best request and record it as this worker's, in one step: a kill between the two would
# lose it. KEYS: queue, in-flight hash.
_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
redis.call('HSET', KEYS[2], r[1], r[2])
return r[1]
"""
# A dead worker's in-flight requests back into the queue. KEYS: its hash, its heartbeat, queue.
_REQUEUE = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local h = redis.call('HGETALL', KEYS[1])
for i = 1, #h, 2 do redis.call('ZADD', KEYS[3], h[i + 1], h[i]) end
redis.call('DEL', KEYS[1])
return #h / 2
"""
# The last worker out removes the site's frontier. KEYS: queue, dupefilter; ARGV: key prefix.
_CLEANUP = """
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
for _, k in ipairs(redis.call('KEYS', ARGV[1] .. 'alive:*')) do return 0 end
for _, k in ipairs(redis.call('KEYS', ARGV[1] .. 'inflight:*')) do return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
"""


def frontier_keys(site: str) -> dict[str, str]:
    """The Redis keys of ``site``'s shared frontier (prefix, queue, dupefilter)."""
    prefix = f"newsmon:frontier:{site}:"
    return {"prefix": prefix, "requests": prefix + "requests", "dupefilter": prefix + "dupefilter"}


class SharedFrontier:
    """Add-on: with REDIS_SHARED_CRAWL on, the crawl uses ``SharedScheduler`` and ``FrontierAck``."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedFrontier:
        return cls()

    def update_settings(self, settings: Settings) -> None:
        """Switch the scheduler (REDIS_URL is required with it: a crawler/checks.py combination rule)."""
        if not settings.getbool("REDIS_SHARED_CRAWL"):
            return
        settings.set("SCHEDULER", "crawler.redis_frontier.SharedScheduler", priority="addon")
        settings["SPIDER_MIDDLEWARES"]["crawler.redis_frontier.FrontierAck"] = 10


class _RedisFingerprints(RFPDupeFilter):
    """Scrapy's fingerprints, kept in one Redis set: SADD adds and answers "seen before" at once."""

    server: Redis
    key: str

    def request_seen(self, request: Request) -> bool:
        return self.server.sadd(self.key, self._fingerprint(request)) == 0


class SharedDupeFilter(CanonicalDupeFilter, _RedisFingerprints):
    """``CanonicalDupeFilter`` (the canonical URL is fingerprinted) over the Redis set."""


class _InFlightQueue(PriorityQueue):
    """scrapy-redis' priority queue whose pop records the request in the worker's in-flight hash."""

    inflight_key = ""

    def pop(self, timeout: int = 0) -> Request | None:
        data = self.server.eval(_POP, 2, self.key, self.inflight_key)
        if not data:
            return None
        request: Request = self._decode_request(data)
        request.meta[TOKEN_META] = data
        return request

    def push(self, request: Request) -> None:
        # A request built from a fetched one may carry its token in copied meta: never store it.
        request.meta.pop(TOKEN_META, None)
        super().push(request)


class SharedScheduler(RedisScheduler):
    """scrapy-redis' scheduler with newsmon's keys, canonical dupefilter and in-flight recovery."""

    # Set by from_crawler (scrapy-redis' __init__ takes the queue and filter arguments only).
    crawler: Crawler
    url: str
    keys: dict[str, str]
    worker: str  # host-pid: unique per running worker
    ttl: float
    ack_delay: float
    done: list[tuple[float, bytes]]
    waiting = False  # idle, and kept open by other workers' requests in flight
    inflight_key: str
    alive_key: str
    heartbeat: task.LoopingCall

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        from crawler.checks import check_setting

        settings = crawler.settings
        site = crawler.spidercls.name
        keys = frontier_keys(site)
        dupefilter = build_from_crawler(SharedDupeFilter, crawler)
        scheduler = cls(server=None, persist=True, queue_key=keys["requests"],
                        queue_cls="crawler.redis_frontier._InFlightQueue", dupefilter=dupefilter,
                        serializer=picklecompat)
        scheduler.crawler = crawler
        scheduler.url = check_setting(settings, "REDIS_URL")  # NEWSMON_REDIS_URL first
        scheduler.stats = crawler.stats
        scheduler.keys = keys
        scheduler.worker = f"{socket.gethostname()}-{os.getpid()}"
        scheduler.ttl = check_setting(settings, "REDIS_WORKER_TTL")
        scheduler.ack_delay = 2 * check_setting(settings, "STORE_FLUSH_SECONDS") + 1
        scheduler.done = []  # (monotonic time, token) of responses whose output is scheduled
        crawler.signals.connect(scheduler._output_done, signal=FrontierAck.output_done)
        return scheduler

    # --- lifecycle -------------------------------------------------------------------------------

    def open(self, spider: Spider) -> None:
        from redis import Redis

        # scrapy-redis' connection defaults: a stalled Redis fails a call instead of hanging it.
        self.server = Redis.from_url(self.url, socket_timeout=30, socket_connect_timeout=30,
                                     retry_on_timeout=True)
        self.server.ping()
        self.df.server, self.df.key = self.server, self.keys["dupefilter"]
        self.inflight_key = f"{self.keys['prefix']}inflight:{self.worker}"
        self.alive_key = f"{self.keys['prefix']}alive:{self.worker}"
        self._beat()  # alive before the first seed is scheduled: the last-out check sees us
        super().open(spider)
        self.queue.inflight_key = self.inflight_key
        self.heartbeat = task.LoopingCall(self._beat)
        self.heartbeat.start(min(1.0, self.ttl / 3), now=False)
        logger.info("Shared frontier %s: worker %s (%d requests waiting)", self.keys["requests"],
                    self.worker, len(self.queue))

    def close(self, reason: str) -> None:
        if self.heartbeat.running:
            self.heartbeat.stop()
        if reason == "finished":  # everything popped here was handled
            self.server.delete(self.inflight_key)
        self.server.delete(self.alive_key)
        if self.server.eval(_CLEANUP, 2, self.keys["requests"], self.keys["dupefilter"], self.keys["prefix"]):
            logger.info("Shared frontier %s: last worker out, frontier removed", self.keys["requests"])

    def enqueue_request(self, request: Request) -> bool:
        """scrapy-redis' enqueue, with a link met again (a recheck) filtered like any other."""
        if request.meta.get(RECHECK_META):
            # A worker re-sends a link it met again with a newer sitemap date for the incremental
            # middleware to judge; that worker's memory of dates is its own, so across workers
            # the re-send would fetch a page another worker just fetched. Shared, it is filtered.
            request.dont_filter = False
        # scrapy-redis' own enqueue, without its deprecated ``spider=`` stats argument.
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Request | None:
        request = self.queue.pop()
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    # --- in flight -------------------------------------------------------------------------------

    def _output_done(self, token: bytes) -> None:
        self.done.append((time.monotonic(), token))

    def _beat(self) -> None:
        """Renew this worker's heartbeat; delete the in-flight entries whose items are stored."""
        self.server.set(self.alive_key, b"1", px=int(self.ttl * 1000))
        cutoff = time.monotonic() - self.ack_delay
        ripe = [token for at, token in self.done if at <= cutoff]
        if ripe:
            self.server.hdel(self.inflight_key, *ripe)
            self.done = self.done[len(ripe):]
        # An idle engine looks at the scheduler again only on its 5 s heartbeat: requests another
        # worker queued meanwhile are taken now, and a worker waiting on the others' requests in
        # flight closes within a second of their end. (Scrapy has no public call for this.)
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None and (self.waiting or self.server.zcard(self.keys["requests"])):
            slot.nextcall.schedule()

    def has_pending_requests(self) -> bool:
        """Called only when this worker is idle (Scrapy's ``spider_is_idle``): see the module doc."""
        self.waiting = False
        if len(self.queue):
            return True
        self.server.delete(self.inflight_key)  # idle: what is left was handled
        self.done.clear()
        others = [key for key in self.server.scan_iter(f"{self.keys['prefix']}inflight:*")
                  if key.decode() != self.inflight_key]
        waiting = False
        for key in others:
            worker = key.decode().rpartition("inflight:")[2]
            moved = self.server.eval(_REQUEUE, 3, key, f"{self.keys['prefix']}alive:{worker}",
                                     self.keys["requests"])
            if moved:
                logger.warning("Worker %s stopped with %d requests in flight: re-queued", worker, moved)
                self.stats.inc_value("newsmon/frontier/requeued", int(moved))
                return True
            waiting = waiting or bool(self.server.hlen(key))
        self.waiting = waiting
        return waiting


class FrontierAck:
    """Spider middleware: tells the scheduler when a response's callback output is all scheduled."""

    output_done = object()  # signal(token=bytes)

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierAck:
        return cls(crawler)

    def _done(self, response: Response) -> None:
        token = response.meta.get(TOKEN_META)
        if token:
            self.crawler.signals.send_catch_log(self.output_done, token=token)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        yield from result
        self._done(response)

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in result:
            yield item
        self._done(response)

