"""Prometheus metrics: the documented names are served, from an ended run and from the scheduler."""

from __future__ import annotations

import re
import urllib.request
from datetime import UTC, datetime, timedelta

from crawler.metrics import SchedulerMetrics
from tests.conftest import ROOT
from tests.test_scheduler import SMALL_CRAWL, _config, _runs, _serving, tier, wait_for  # noqa: F401

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        return response.read().decode()


def documented_names() -> list[str]:
    """The metric names in crawler/metrics.py's docstring, as README lists them too."""
    import crawler.metrics

    names = re.findall(r"^    (\w+)\{", crawler.metrics.__doc__ or "", re.MULTILINE)
    readme = (ROOT / "README.md").read_text()
    assert names and all(f"newsmon_{n}" in readme for n in names)
    return [f"newsmon_{n}" for n in names]


def run_doc(**over) -> dict:
    doc = {
        "_id": "r1", "site": "demo", "outcome": "finished", "started_at": T0,
        "finished_at": T0 + timedelta(seconds=42),
        "summary": {"pages": 188, "articles_new": 160, "articles_updated": 2, "articles_unchanged": 0,
                    "articles_skipped_known": 0, "snippets_new": 40, "snippets_seen_again": 1740,
                    "journaled": 3},
        "stats": {"newsmon/topics/central-asia": 20, "newsmon/topics/skipped/unchanged": 5},
        "health": {"status": "warnings", "monitors": [{"name": "missing_author", "status": "warning"},
                                                      {"name": "pages_fetched", "status": "passed"}]},
    }
    doc.update(over)
    return doc


def test_endpoint_serves_every_documented_name() -> None:
    metrics = SchedulerMetrics()
    metrics.observe(run_doc())
    metrics.observe(run_doc(_id="r2", outcome="failed", health={"status": "failed", "monitors": []}))
    port = metrics.start(0)
    try:
        text = scrape(port)
    finally:
        metrics.stop()
    for name in documented_names():
        assert re.search(rf"^{name}(_total|_bucket|_count|_sum)?{{", text, re.MULTILINE), name
    assert 'newsmon_runs_total{outcome="finished",site="demo"} 1.0' in text
    assert 'newsmon_runs_total{outcome="failed",site="demo"} 1.0' in text
    assert 'newsmon_articles_total{decision="new",site="demo"} 320.0' in text
    assert 'newsmon_topic_flags_total{site="demo",topic="central-asia"} 40.0' in text
    assert "skipped" not in "".join(line for line in text.splitlines() if line.startswith("newsmon_topic_flags"))
    assert 'newsmon_journaled_items_total{site="demo"} 6.0' in text
    (last,) = re.findall(r'^newsmon_last_success_timestamp_seconds\{site="demo"\} (\S+)$', text, re.MULTILINE)
    assert float(last) == (T0 + timedelta(seconds=42)).timestamp()  # the finished run's, not the failed one's
    assert 'newsmon_health{site="demo"} 2.0' in text  # the last run's
    assert 'newsmon_health_monitor_problems_total{monitor="missing_author",site="demo"} 1.0' in text
    assert 'newsmon_run_duration_seconds_count{site="demo"} 2.0' in text


def test_seeded_gauges_survive_a_restart() -> None:
    metrics = SchedulerMetrics()
    metrics.seed([run_doc(_id="new", outcome="failed", health={"status": "failed"}),
                  run_doc(_id="old", health={"status": "passed"})])
    assert metrics.health.labels("demo")._value.get() == 2
    assert metrics.last_success.labels("demo")._value.get() == (T0 + timedelta(seconds=42)).timestamp()


def test_scheduler_serves_metrics_of_its_crawls(tier, demo_server) -> None:  # noqa: F811
    import crawler.scheduler

    args = (*SMALL_CRAWL, "-a", f"base_url={demo_server.base_url}/")
    config = _config(tier, {"demo": 3600.0}, args, metrics_port=0)
    for _ in _serving(config):
        wait_for(lambda: [r for r in _runs(tier, "demo") if r["outcome"] not in ("running",)
                          and r.get("exit_code") is not None])
        port = crawler.scheduler.METRICS.server.server_address[1]
        text = wait_for(lambda port=port: next((t for t in [scrape(port)] if "newsmon_runs_total{" in t), None),
                        timeout=30)
    assert re.search(r'^newsmon_runs_total\{outcome="\w+",site="demo"\} 1\.0$', text, re.MULTILINE), text
    assert re.search(r'^newsmon_pages_fetched_total\{site="demo"\} [1-9]', text, re.MULTILINE)
    assert re.search(r'^newsmon_health\{site="demo"\} [012]\.0$', text, re.MULTILINE)
    assert re.search(r'^newsmon_last_success_timestamp_seconds\{site="demo"\} 1\.\d+e\+09$', text, re.MULTILINE)


def test_follow_counts_each_completed_run_once() -> None:
    metrics = SchedulerMetrics()
    done = run_doc(exit_code=0)
    child_only = run_doc(_id="r2")  # the crawl child's last write; its runner has not completed it
    running = run_doc(_id="r3", outcome="running", finished_at=None, exit_code=None)
    reaped = run_doc(_id="r4", outcome="killed", finish_reason="process gone")
    assert metrics.follow([done, child_only, running, reaped], since=T0) == 2
    assert metrics.follow([done, dict(child_only, exit_code=0), running, reaped], since=T0) == 1
    assert metrics.runs.labels("demo", "finished")._value.get() == 2
    assert metrics.runs.labels("demo", "killed")._value.get() == 1
    # Runs that ended before the window are forgotten, and a query from `since` no longer returns them.
    metrics.follow([], since=T0 + timedelta(days=1))
    assert metrics._counted == {}
