"""EXTRACT_WORKERS_BACKLOG (crawler/workers.py): pages beyond the workers' backlog are extracted in
the crawl process, and the crawl stores what a crawl extracting every page in process stores."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tests.conftest import StoreTier, run_newsmon
from tests.test_workers import _stored

if TYPE_CHECKING:
    from crawler.workers import PageJob


def test_pages_beyond_the_backlog_are_extracted_in_process_with_the_same_results(tmp_path, demo_server) -> None:
    results, runs = [], []
    for settings in (["EXTRACT_WORKERS=0"], ["EXTRACT_WORKERS=1", "EXTRACT_WORKERS_BACKLOG=1"]):
        tier = StoreTier("embedded", tmp_path / f"data-{len(results)}")
        args = ["crawl", "demo", "-a", f"base_url={demo_server.base_url}/"]
        for setting in settings:
            args += ["-s", setting]
        done = run_newsmon(args, tier.env())
        assert done.returncode == 0, done.stderr[-3000:]
        results.append(_stored(tier))
        store = tier.open()
        try:
            (run,) = store.find("crawl_runs", {"site": "demo"})
        finally:
            store.close()
        runs.append(run["stats"])
    assert results[1] == results[0] and results[0][0]["flags"]
    shared = runs[1]
    # Both kinds of page in the second crawl: sent to the worker, and taken back in process
    assert shared["newsmon/workers/in_process"] > 0
    assert shared["newsmon/time/worker/extract_ms"] > 0 and shared["newsmon/time/spider/extract_ms"] > 0
    assert "newsmon/workers/in_process" not in runs[0]


def test_a_page_the_worker_finished_leaves_the_backlog_before_the_reactor_collects_it() -> None:
    """While the crawl process is busy (extracting a page itself), it does not collect results; a
    page the worker has finished must not count against the backlog meanwhile, or the worker starves."""
    import asyncio
    from datetime import UTC, datetime

    from crawler.workers import ExtractPool, PageJob, extract_page

    now = datetime.now(UTC)
    html = b"<html><body><article><h1>Transit deal</h1><p>Words of a story.</p></article></body></html>"
    job = PageJob(html, "http://example.test/a", "utf-8", {}, "UTC", None, now, None, now)
    pool = ExtractPool(1, backlog=1)

    async def crawl() -> None:
        first = asyncio.ensure_future(pool.submit(job))
        await asyncio.sleep(0)  # the first page is sent to the worker
        assert pool._in_flight == 1
        # The reactor is blocked: wait on the one worker, which runs pages in order, synchronously
        assert pool._pool() is not None
        pool._pool().submit(extract_page, job).result(timeout=60)
        assert pool._in_flight == 0  # finished, though its result is not collected yet
        second = asyncio.ensure_future(pool.submit(job))
        await asyncio.sleep(0)
        assert pool._in_flight == 1  # sent to the worker, not extracted in process
        assert not second.done()
        await asyncio.gather(first, second)
        assert pool._in_flight == 0

    try:
        asyncio.run(crawl())
    finally:
        pool.close()


def test_past_the_backlog_a_page_goes_to_the_extraction_thread_only_while_it_is_idle() -> None:
    """The thread beside the reactor takes one page at a time (an unbounded queue at the thread
    left the worker idle: 0.12 of a core); the rest wait for a worker's backlog or the thread."""
    import asyncio
    from datetime import UTC

    from crawler.workers import ExtractPool

    now = datetime.now(UTC)
    pool = ExtractPool(1, backlog=1)

    async def crawl() -> None:
        first = asyncio.ensure_future(pool.submit(_long_page_job(now, "first")))
        await asyncio.sleep(0)
        # the worker has its backlog: to the thread
        second = asyncio.ensure_future(pool.submit(_long_page_job(now, "second")))
        await asyncio.sleep(0)
        # the thread is busy, the worker has its backlog: the page waits
        third = asyncio.ensure_future(pool.submit(_long_page_job(now, "third")))
        await asyncio.sleep(0)
        assert (pool._in_flight, pool._local_pending, len(pool._waiting)) == (1, 1, 1)
        await asyncio.gather(first, second, third)
        assert (pool._in_flight, pool._local_pending, len(pool._waiting)) == (0, 0, 0)

    try:
        asyncio.run(crawl())
    finally:
        pool.close()


class _Stats:
    def __init__(self) -> None:
        self.values: dict[str, float] = {}

    def inc_value(self, key: str, value: float = 1) -> None:
        self.values[key] = self.values.get(key, 0) + value


def test_a_waiting_page_goes_to_whichever_frees_first() -> None:
    """Pages come in bursts (a stored batch frees the scraper's slot for many downloads): past the
    backlog they wait, and the extraction thread takes the next one as soon as it is idle, while
    the worker is still on a long page. Deciding at arrival sent both short pages to the worker."""
    import asyncio
    from datetime import UTC
    from types import SimpleNamespace

    from crawler.workers import ExtractPool

    now = datetime.now(UTC)
    stats = _Stats()
    pool = ExtractPool(1, SimpleNamespace(stats=stats), backlog=1)

    async def crawl() -> None:
        long_one = asyncio.ensure_future(pool.submit(_long_page_job(now, "long", paragraphs=1600)))
        await asyncio.sleep(0)  # to the worker
        short = [asyncio.ensure_future(pool.submit(_long_page_job(now, f"short {i}", paragraphs=4)))
                 for i in range(2)]
        await asyncio.sleep(0)  # the first to the thread, the second waits
        assert (pool._in_flight, pool._local_pending, len(pool._waiting)) == (1, 1, 1)
        await asyncio.gather(*short)
        assert not long_one.done()  # both short pages were done in process meanwhile
        await long_one

    try:
        asyncio.run(crawl())
    finally:
        pool.close()
    assert stats.values["newsmon/workers/in_process"] == 2, stats.values
    assert stats.values["newsmon/time/worker/extract_ms"] > 0  # the long page was the worker's


def _long_page_job(now: datetime, salt: str, paragraphs: int = 400) -> PageJob:
    """An article page of ~1 KB per paragraph (400 KB: a second of extraction on a busy
    machine, 0.1 s on a quiet one). The extractor memoises paragraphs it has seen: each salt is
    a page it has not."""
    from crawler.workers import PageJob

    paragraph = "Engineers restored supply to districts hit by the latest strikes on the grid. " * 20
    html = ("<html><body><article><h1>Repairs go on</h1>"
            + "".join(f"<p>{paragraph} {salt} {i}</p>" for i in range(paragraphs)) + "</article></body></html>").encode()
    return PageJob(html, "http://example.test/a", "utf-8", {}, "UTC", None, now, None, now)


def test_a_page_this_process_extracts_leaves_the_event_loop_free() -> None:
    """A page extracted in the crawl process (EXTRACT_WORKERS=0, past the backlog, or after a
    worker died) runs on the pool's extraction thread: the reactor goes on reading responses.
    Blocked for seconds, it would time out requests already answered (Twisted runs a due timer
    before the I/O that came in meanwhile) and their retries would follow redirect loops."""
    import asyncio
    import time
    from datetime import UTC

    from crawler.workers import ExtractPool

    # 1.6 MB: long enough for the loop's turns to be counted on a quiet, fast machine too
    # (400 KB took 0.09 s there: 4 turns of 10 ms, the GIL shared with the extraction)
    job = _long_page_job(datetime.now(UTC), "loop", paragraphs=1600)
    pool = ExtractPool(0)

    async def crawl() -> tuple[int, float, dict]:
        ticks = 0
        started = time.monotonic()
        extraction = asyncio.ensure_future(pool.submit(job))
        while not extraction.done():  # the loop's own turns, counted while the page is extracted
            await asyncio.sleep(0.01)
            ticks += 1
        return ticks, time.monotonic() - started, (await extraction).article

    try:
        ticks, seconds, article = asyncio.run(crawl())
    finally:
        pool.close()
    assert article["title"] == "Repairs go on" and len(article["body"]) > 400_000
    # In the loop's thread the extraction would allow no turn at all until it is done
    assert ticks >= 5, f"{ticks} turns of the event loop in {seconds:.2f} s of extraction"
