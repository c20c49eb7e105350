"""One dedicated thread for a component's blocking store calls, awaitable from coroutines.

Pipelines must never block the reactor; their store clients are not thread-safe, and one writer
keeps batches in order. So each storing component owns one single-thread pool, started when the
spider opens and stopped when it closes, and awaits its calls as futures (which works under the
asyncio reactor, where awaiting a bare Deferred does not).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

__all__ = ["BlockingWorker"]

T = TypeVar("T")


class BlockingWorker:
    """A single worker thread; ``await worker.run(func, *args)`` runs ``func`` on it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name=name)
        self.running = False

    def start(self) -> None:
        self._pool.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.running = False
            self._pool.stop()

    def run(self, func: Callable[..., T], *args: Any) -> Awaitable[T]:
        """Run ``func`` on the worker thread. On a stopped worker this fails at once: work queued
        on a stopped pool would never run, and whoever awaits it would wait forever."""
        from twisted.internet import reactor

        if not self.running:
            raise RuntimeError(f"{self.name}: worker is not running")
        return maybe_deferred_to_future(deferToThreadPool(reactor, self._pool, func, *args))
