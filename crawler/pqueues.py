"""Scrapy's priority queues, with the next priority kept in a heap and the length kept as a count.

Scrapy's ``ScrapyPriorityQueue`` holds one FIFO queue per distinct priority; each ``len()`` sums
the lengths of all of them, and each pop that empties one scans them all for the next priority.
The spider gives an article the negated age in hours of its date (newest first), so a crawl of a
site's archive holds hundreds of priorities, and ``DownloaderAwarePriorityQueue`` asks for the
length of its slot's queue after every pop: ~3% of the reactor thread's time in the throughput
bench (README "Throughput"). These classes pop the same requests in the same order, with the
same per-priority downstream queues (and so the same ``JOBDIR`` files), in O(log n) per new
priority and O(1) per ``len()``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import Any

from scrapy.pqueues import DownloaderAwarePriorityQueue, ScrapyPriorityQueue

__all__ = ["HeapDownloaderAwarePriorityQueue", "HeapPriorityQueue"]


class HeapPriorityQueue(ScrapyPriorityQueue):
    """``ScrapyPriorityQueue`` that pops the same order with a heap of its priorities and a count."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._heap: list[int] = []  # priorities that have, or had, a downstream queue
        self._in_heap: set[int] = set()
        self._count = 0
        super().__init__(*args, **kwargs)

    def init_prios(self, startprios: Iterable[int]) -> None:
        """Scrapy's, then the heap and count of the queues it reopened (a resumed ``JOBDIR``)."""
        super().init_prios(startprios)
        for queues in (self.queues, self._start_queues):
            for priority, queue in queues.items():
                self._count += len(queue)
                self._note(priority)

    def _note(self, priority: int) -> None:
        if priority not in self._in_heap:
            self._in_heap.add(priority)
            heapq.heappush(self._heap, priority)

    def push(self, request: Any) -> None:
        super().push(request)  # may raise (a request a disk queue cannot serialize): not counted
        self._count += 1
        self._note(self.priority(request))

    def pop(self) -> Any:
        """The next request: lowest priority value first, at one priority the queue Scrapy's pops
        first (other requests before start requests), each downstream queue in its own order."""
        heap = self._heap
        while heap:
            priority = heap[0]
            for queues in (self.queues, self._start_queues):
                queue = queues.get(priority)
                if queue is None:
                    continue
                request = queue.pop()
                if not queue:
                    del queues[priority]
                    queue.close()
                if request is not None:
                    self._count -= 1
                    self._settle(priority)
                    return request
            if priority not in self.queues and priority not in self._start_queues:
                self._drop_top()
        self.curprio = None
        return None

    def _settle(self, priority: int) -> None:
        if priority not in self.queues and priority not in self._start_queues:
            self._drop_top()
        self.curprio = self._heap[0] if self._heap else None

    def _drop_top(self) -> None:
        self._in_heap.discard(heapq.heappop(self._heap))

    def __len__(self) -> int:
        return self._count


class HeapDownloaderAwarePriorityQueue(DownloaderAwarePriorityQueue):
    """Scrapy's default scheduler queue (one priority queue per download slot), each a heap one."""

    def pqfactory(self, slot: str, startprios: Iterable[int] = ()) -> ScrapyPriorityQueue:
        from scrapy.pqueues import _path_safe

        return HeapPriorityQueue(self.crawler, self.downstream_queue_cls, self.key + "/" + _path_safe(slot),
                                 startprios, start_queue_cls=self._start_queue_cls)
