"""EXTRACT_WORKERS_BACKLOG (crawler/workers.py): pages beyond the workers' backlog are extracted in
the crawl process, and the crawl stores what a crawl extracting every page in process stores."""

from __future__ import annotations

from tests.conftest import StoreTier, run_newsmon
from tests.test_workers import _stored


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
