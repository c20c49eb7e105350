"""Scrapy's LogFormatter, without the per-item "Scraped from" record nobody will see.

Scrapy builds that DEBUG record (a ``LogRecord`` holding the item, through the logging module's
machinery) for every item, before its handler's level drops it: at the default ``LOG_LEVEL``
INFO, about a millisecond per page of pure waste (~11 items a page). Returning None skips it
(Scrapy's documented way); it is still logged when some handler on the root logger takes DEBUG
records (``LOG_LEVEL=DEBUG``, or a handler of the user's own).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import logformatter

__all__ = ["LogFormatter"]


class LogFormatter(logformatter.LogFormatter):
    _debug_seen: bool | None = None  # decided at the first item: handlers are set before the crawl

    def scraped(self, item: Any, response: Any, spider: Any) -> Any:
        if self._debug_seen is None:
            self._debug_seen = _debug_handled()
        return super().scraped(item, response, spider) if self._debug_seen else None


def _debug_handled() -> bool:
    """Whether a DEBUG record of ``scrapy.core.scraper`` would reach any handler."""
    log = logging.getLogger("scrapy.core.scraper")
    if not log.isEnabledFor(logging.DEBUG):
        return False
    current: logging.Logger | None = log
    while current is not None:
        if any(handler.level <= logging.DEBUG for handler in current.handlers):
            return True
        current = current.parent if current.propagate else None
    return False
