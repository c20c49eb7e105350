"""crawler/pqueues.py pops what Scrapy's priority queues pop, in the same order."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy import Request
from scrapy.pqueues import DownloaderAwarePriorityQueue, ScrapyPriorityQueue
from scrapy.squeues import FifoMemoryQueue, LifoMemoryQueue, PickleFifoDiskQueue, PickleLifoDiskQueue
from scrapy.utils.test import get_crawler

from crawler.pqueues import HeapDownloaderAwarePriorityQueue, HeapPriorityQueue

# ("push", priority, is a start request, host) or ("pop",)
_OPS = st.lists(st.one_of(
    st.tuples(st.just("push"), st.integers(-600, 100), st.booleans(), st.sampled_from(["a.test", "b.test"])),
    st.tuples(st.just("pop")),
), max_size=120)


def _request(n: int, priority: int, start: bool, host: str) -> Request:
    request = Request(f"http://{host}/{n}", priority=priority)
    if start:
        request.meta["is_start_request"] = True
    return request


def _replay(queue: object, ops: list[tuple]) -> list[tuple[str | None, int]]:
    """Each pop's URL and the queue's length after every step."""
    seen: list[tuple[str | None, int]] = []
    for n, op in enumerate(ops):
        if op[0] == "push":
            queue.push(_request(n, *op[1:]))  # type: ignore[attr-defined]
            seen.append(("push", len(queue)))  # type: ignore[arg-type]
        else:
            request = queue.pop()  # type: ignore[attr-defined]
            seen.append((request.url if request else None, len(queue)))  # type: ignore[arg-type]
    return seen


@settings(max_examples=100, deadline=None)
@given(_OPS)
def test_heap_queue_pops_scrapys_order(ops: list[tuple]) -> None:
    crawler = get_crawler()
    ours = HeapPriorityQueue(crawler, LifoMemoryQueue, "", start_queue_cls=FifoMemoryQueue)
    scrapys = ScrapyPriorityQueue(crawler, LifoMemoryQueue, "", start_queue_cls=FifoMemoryQueue)
    assert _replay(ours, ops) == _replay(scrapys, ops)


class _Downloader:
    """What DownloaderAwarePriorityQueue reads of the engine's downloader: slots by host, none active."""

    slots: dict[str, object] = {}

    @staticmethod
    def get_slot_key(request: Request) -> str:
        return request.url.split("/")[2]


@settings(max_examples=60, deadline=None)
@given(_OPS)
def test_downloader_aware_queue_pops_scrapys_order(ops: list[tuple]) -> None:
    crawler = get_crawler(settings_dict={"CONCURRENT_REQUESTS_PER_IP": 0})
    crawler.engine = type("Engine", (), {"downloader": _Downloader()})()
    ours = HeapDownloaderAwarePriorityQueue(crawler, LifoMemoryQueue, "", start_queue_cls=FifoMemoryQueue)
    scrapys = DownloaderAwarePriorityQueue(crawler, LifoMemoryQueue, "", start_queue_cls=FifoMemoryQueue)
    assert _replay(ours, ops) == _replay(scrapys, ops)


@pytest.mark.parametrize("cls", [HeapPriorityQueue, ScrapyPriorityQueue])
def test_resumed_from_disk(tmp_path: Path, cls: type) -> None:
    """A JOBDIR crawl stopped with requests queued resumes them in Scrapy's order, counted."""
    crawler = get_crawler()
    first = cls(crawler, PickleLifoDiskQueue, str(tmp_path), start_queue_cls=PickleFifoDiskQueue)
    for n, (priority, start) in enumerate([(-5, False), (3, True), (-5, True), (0, False), (-5, False)]):
        first.push(_request(n, priority, start, "a.test"))
    first.pop()
    active = first.close()
    again = cls(crawler, PickleLifoDiskQueue, str(tmp_path), active, start_queue_cls=PickleFifoDiskQueue)
    assert len(again) == 4
    urls = [again.pop().url for _ in range(4)]  # type: ignore[union-attr]
    # request.priority 3 first (popped before the stop), then 0, then -5: its other requests
    # last in first out, then its start request
    assert urls == ["http://a.test/3", "http://a.test/4", "http://a.test/0", "http://a.test/2"]
    assert again.pop() is None and len(again) == 0
