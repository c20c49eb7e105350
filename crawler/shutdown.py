"""A stop signal never cuts a crawl's close short.

Scrapy's graceful stop (the first SIGINT or SIGTERM) stops every crawl, then the reactor. A crawl
whose spider is already closing (it finished: the last store batch being written, then the fetch
state and the run record) is closed a second time; that second close returns as soon as the
engine's slot is empty, ``engine_stopped`` is sent, the store thread is stopped, and the first
close's remaining writes fail. The scheduler's SIGTERM test (``tests/test_scheduler.py``) saw the
run end without its record about one time in three on a loaded machine; ``tests/test_shutdown.py``
sends the signal inside that window on purpose.

``start`` runs a ``CrawlerProcess`` with handlers of its own: the first signal stops the crawls
that are still running and leaves a closing one to finish its close; the reactor stops when all
of them are done (the process's own ``stop_after_crawl``). A second signal stops at once, as
Scrapy's does.
"""

from __future__ import annotations

import contextlib
import logging
import signal
from typing import Any

__all__ = ["start"]

logger = logging.getLogger(__name__)


def start(process: Any) -> None:
    """``process.start()``, with signals that let every closing crawl finish its close."""
    from scrapy.utils.defer import deferred_from_coro
    from scrapy.utils.ossignal import install_shutdown_handlers, signal_names
    from twisted.internet import reactor

    def stop_now() -> None:
        with contextlib.suppress(RuntimeError):  # already stopping
            reactor.stop()

    def stop_running_crawls() -> None:
        for crawler in list(process.crawlers):
            if _closing(crawler):
                logger.info("%s is closing already: it finishes its close", crawler.spider.name)
                continue
            deferred_from_coro(crawler.stop_async()).addErrback(
                lambda failure: logger.error("Stopping a crawl: %s", failure.value))

    # (never log from a signal handler: it may have interrupted a write to the same stream)
    def kill(signum: int, _frame: Any) -> None:
        install_shutdown_handlers(signal.SIG_IGN)
        reactor.callFromThread(logger.info, "Received %s again, stopping at once", signal_names[signum])
        reactor.callFromThread(stop_now)

    def shut_down(signum: int, _frame: Any) -> None:
        install_shutdown_handlers(kill)
        reactor.callFromThread(logger.info, "Received %s, shutting down gracefully. Send again to force",
                               signal_names[signum])
        reactor.callFromThread(stop_running_crawls)

    reactor.addSystemEventTrigger("after", "startup", install_shutdown_handlers, shut_down)
    process.start(install_signal_handlers=False)


def _closing(crawler: Any) -> bool:
    """Whether the crawl's spider is closing already. Scrapy has no public flag for it: its
    engine's slot holds the close once it has begun (``tests/test_shutdown.py`` fails if that
    changes)."""
    slot = getattr(getattr(crawler, "engine", None), "_slot", None)
    return slot is not None and getattr(slot, "closing", None) is not None
