"""``SettingsCheck``: the settings check for crawls started from Python, not from a command.

``newsmon crawl``/``demo``/``schedule`` and ``scrapy crawl`` check every setting before a crawler
exists (one line, exit 2). A crawler built in code (``CrawlerProcess(settings).crawl("demo")``)
passes through this add-on instead: Scrapy loads add-ons first, before any extension, middleware or
pipeline is built, so an invalid setting here is logged as one ERROR line, newsmon's components
are left out of the crawler (none of them is built, so none writes anything or raises), and the
spider is closed as soon as it opens with ``finish_reason`` ``config_error``. Scrapy offers no
earlier clean stop: an exception raised here would fail the crawl's Deferred, which Twisted
reports as a traceback. Code that wants an exception instead calls
``crawler.checks.check_settings(settings)`` itself before crawling.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import CloseSpider

from crawler.checks import COMPONENT_DICTS, class_path, setting_problems

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

__all__ = ["CONFIG_ERROR_REASON", "SettingsCheck"]

logger = logging.getLogger(__name__)

#: The ``finish_reason`` of a crawl stopped by an invalid setting.
CONFIG_ERROR_REASON = "config_error"
_OURS = ("crawler.", "pipelines.")
_OVERRIDE = 100  # above every named priority (cmdline is 40), so nothing re-enables a component


class SettingsCheck:
    """Check every newsmon setting when the crawler is built; on a problem, stop before crawling."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.problems: list[str] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SettingsCheck:
        return cls(crawler)

    def update_settings(self, settings: Settings) -> None:
        """Check the crawler's settings (spider custom settings included); disarm on a problem."""
        self.problems = setting_problems(settings)
        if not self.problems:
            return
        logger.error("Invalid settings, the crawl does not start: %s", "; ".join(self.problems),
                     extra={"crawler": self.crawler})
        for name in COMPONENT_DICTS:
            kept = {k: v for k, v in settings.getdict(name).items() if not class_path(k).startswith(_OURS)}
            settings.set(name, kept, priority=_OVERRIDE)
        handlers = settings.getdict("DOWNLOAD_HANDLERS")
        settings.set("DOWNLOAD_HANDLERS", {k: v for k, v in handlers.items()
                                           if not (v and class_path(v).startswith(_OURS))},
                     priority=_OVERRIDE)
        if class_path(settings.get("DUPEFILTER_CLASS")).startswith(_OURS):
            settings.set("DUPEFILTER_CLASS", "scrapy.dupefilters.RFPDupeFilter", priority=_OVERRIDE)
        self.crawler.signals.connect(self._refuse, signal=signals.spider_opened)

    def _refuse(self, spider: Any) -> None:
        self.crawler.stats.set_value("newsmon/config_error", "; ".join(self.problems))
        raise CloseSpider(CONFIG_ERROR_REASON)
