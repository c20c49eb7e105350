"""Counted, named drops: nothing a page does makes an exception escape into the crawl log.

Two halves, one stats namespace (``newsmon/drop/<reason>``, summed as ``dropped`` in the crawl
summary):

- :class:`DropExceptionsMiddleware`, a spider middleware: an exception raised by a spider callback
  (extraction on a page it cannot handle) becomes the drop ``newsmon/drop/page_error/<Type>``,
  logged as one WARNING line with the URL instead of a traceback per page (the traceback is
  logged at DEBUG). Items the callback yielded before it failed are kept. ``CloseSpider`` passes.
- :func:`drop_item`, for item pipelines: counts ``newsmon/drop/<reason>`` and returns the
  ``DropItem`` to raise, so every pipeline names its drops the same way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import CloseSpider, DropItem, NotConfigured

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

__all__ = ["DropExceptionsMiddleware", "count_drop", "drop_item"]

logger = logging.getLogger(__name__)

_REASON = re.compile(r"^[A-Za-z0-9_]+(?:/[A-Za-z0-9_.-]+)*$")


def count_drop(stats: StatsCollector, reason: str) -> None:
    """Count one ``newsmon/drop/<reason>`` (reason: slash-separated words, e.g. ``no_body``)."""
    if not _REASON.match(reason):
        raise ValueError(f"drop reason {reason!r}: use letters, digits, '_' and '/'")
    stats.inc_value(f"newsmon/drop/{reason}")


def drop_item(crawler: Crawler, reason: str, item: Any) -> DropItem:
    """Count the drop of ``item`` and return the ``DropItem`` to raise (message: reason and URL)."""
    assert crawler.stats is not None
    count_drop(crawler.stats, reason)
    adapter = ItemAdapter(item) if ItemAdapter.is_item(item) else None
    where = (adapter.get("url") or adapter.get("headline")) if adapter is not None else None
    return DropItem(f"{reason}: {where or type(item).__name__}")


class DropExceptionsMiddleware:
    """Spider middleware: a callback's exception is a counted, named drop, not a traceback."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DropExceptionsMiddleware:
        if not crawler.settings.getbool("DROP_EXCEPTIONS_ENABLED"):
            raise NotConfigured("DROP_EXCEPTIONS_ENABLED is off")
        return cls(crawler)

    def process_spider_exception(self, response: Response, exception: Exception) -> Iterable[Any] | None:
        """Count and log the failure once; nothing more comes out of this page's callback."""
        if isinstance(exception, CloseSpider):
            return None  # the spider asked to stop: Scrapy's own handling applies
        name = re.sub(r"[^A-Za-z0-9_]", "_", type(exception).__name__)
        assert self.crawler.stats is not None
        count_drop(self.crawler.stats, f"page_error/{name}")
        message = str(exception).splitlines()[0][:200] if str(exception) else ""
        logger.warning("Dropped page %s: %s%s", response.url, name, f": {message}" if message else "")
        logger.debug("Traceback of the dropped page %s", response.url, exc_info=exception)
        return []
