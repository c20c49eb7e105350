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
