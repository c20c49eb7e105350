"""Retries that listen to the server: ``Retry-After`` on 429/503, exponential backoff otherwise.

:class:`RetryAfterMiddleware` replaces Scrapy's ``RetryMiddleware`` (same place, 550) and keeps
its rules (``RETRY_TIMES``, ``RETRY_HTTP_CODES``, ``RETRY_EXCEPTIONS``, ``dont_retry``) and stats
(``retry/...``). What it adds is *when* the retry goes out:

- a 429 or 503 with ``Retry-After`` (seconds or an HTTP date) is retried after that long, if it is
  at most ``RETRY_AFTER_MAX`` seconds; a longer one is not retried in this crawl (the page is
  fetched again by the next one) and counted as ``newsmon/retry/retry_after_too_long``;
- every other retry waits ``RETRY_BACKOFF_BASE`` × 2^(attempt − 1) seconds, at most
  ``RETRY_BACKOFF_MAX``.

The wait is an ``await`` of :func:`scrapy.utils.asyncio.sleep` inside the (async)
``process_response`` / ``process_exception``, which Scrapy ≥ 2.13 awaits: the reactor keeps
serving every other request meanwhile. Nothing blocks; the waiting request keeps one of the
``CONCURRENT_REQUESTS`` places while it waits. (The downloader slot's ``delay`` was the other
option; it is per site and would slow every request of the site, not just the retried one.)

Counted: ``newsmon/retry/retry_after/<status>`` and ``newsmon/retry/backoff`` (retries scheduled by
either rule) and ``newsmon/retry/delay_ms`` (the total waited, in milliseconds).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.asyncio import sleep
from scrapy.utils.response import response_status_message


if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

__all__ = ["RetryAfterMiddleware", "RetryDelays", "parse_retry_after"]

logger = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = frozenset({429, 503})


def parse_retry_after(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryDelays:
    """``RETRY_AFTER_MAX``, ``RETRY_BACKOFF_BASE``, ``RETRY_BACKOFF_MAX``: read once, validated."""

    retry_after_max: float = 60.0
    backoff_base: float = 1.0
    backoff_max: float = 30.0

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RetryDelays:
        """The delays; ``ConfigError`` naming the setting for a value that is not seconds >= 0."""
        from crawler.checks import check_setting

        return cls(*(float(check_setting(settings, name))
                     for name in ("RETRY_AFTER_MAX", "RETRY_BACKOFF_BASE", "RETRY_BACKOFF_MAX")))


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's retry rules; the retry is delayed by Retry-After or exponential backoff."""

    def __init__(self, settings: BaseSettings, delays: RetryDelays) -> None:
        super().__init__(settings)
        self.retry_after_max = delays.retry_after_max
        self.backoff_base = delays.backoff_base
        self.backoff_max = delays.backoff_max

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        mw = cls(crawler.settings, RetryDelays.from_settings(crawler.settings))
        mw.crawler = crawler
        return mw

    def backoff(self, retry_times: int) -> float:
        """Seconds before retry number ``retry_times`` (1-based) when the server named no time."""
        return min(self.backoff_max, self.backoff_base * 2 ** max(0, retry_times - 1))

    # Async overrides without the deprecated spider argument: Scrapy awaits them (hence the ignores).
    async def process_response(  # type: ignore[override]
            self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        stats = self.crawler.stats
        after = parse_retry_after(response.headers.get("Retry-After")) \
            if response.status in RETRY_AFTER_STATUSES else None
        if after is not None and after > self.retry_after_max:
            stats.inc_value("newsmon/retry/retry_after_too_long")
            logger.info("Not retrying %s in this crawl: HTTP %s asks to wait %.0f s (RETRY_AFTER_MAX %.0f s)",
                        request.url, response.status, after, self.retry_after_max)
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        if after is not None:
            stats.inc_value(f"newsmon/retry/retry_after/{response.status}")
            delay = after
        else:
            stats.inc_value("newsmon/retry/backoff")
            delay = self.backoff(retry.meta["retry_times"])
        await self._wait(delay, request, f"HTTP {response.status}")
        return retry

    async def process_exception(  # type: ignore[override]
            self, request: Request, exception: Exception) -> Request | Response | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        retry = self._retry(request, exception)
        if retry is None:
            return None
        self.crawler.stats.inc_value("newsmon/retry/backoff")
        await self._wait(self.backoff(retry.meta["retry_times"]), request, type(exception).__name__)
        return retry

    async def _wait(self, delay: float, request: Request, why: str) -> None:
        if delay <= 0:
            return
        self.crawler.stats.inc_value("newsmon/retry/delay_ms", round(delay * 1000))
        logger.debug("Retrying %s in %.1f s (%s)", request.url, delay, why)
        await sleep(delay)
