"""Print a one-line progress report of a crawl every few seconds (``NEWSMON_PROGRESS_INTERVAL``).

Scrapy's LogStats logs pages per minute at INFO; a person running ``newsmon demo`` or
``newsmon crawl`` wants to see articles and snippets go up without reading the whole log.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler.checks import check_setting
from crawler.when import plural

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

__all__ = ["ProgressReporter"]


class ProgressReporter:
    """Scrapy extension: a status line on stderr while a crawl runs."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressReporter:
        interval = check_setting(crawler.settings, "NEWSMON_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self._loop = task.LoopingCall(self.report, spider)
        self._loop.start(self.interval, now=False)

    def spider_closed(self, spider: Spider) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()

    def report(self, spider: Spider) -> None:
        stats = self.crawler.stats
        get = lambda key: stats.get_value(key, 0)  # noqa: E731
        errors = sum(v for k, v in stats.get_stats().items()
                     if k.startswith("newsmon/errors/") and isinstance(v, int))
        print(
            f"[{spider.name}] {plural(get('response_received_count'), 'page')}, "
            f"{plural(get('newsmon/items/article'), 'article')}, "
            f"{plural(get('newsmon/items/snippet'), 'snippet')}, {plural(errors, 'error')}",
            file=sys.stderr, flush=True,
        )
