"""Prometheus metrics of the re-crawl service (``newsmon schedule`` with ``METRICS_PORT`` set).

prometheus-client serves them over HTTP from a daemon thread, on ``METRICS_ADDRESS``:``METRICS_PORT``
(``/metrics``). The service observes each crawl once its child process has ended, from the run's
``crawl_runs`` document (summary, stats, health), so the figures are the ones ``newsmon runs``
shows. Counters count since the service started; the per-site gauges (last successful run, health)
are seeded from the store at start, so a restart does not blank them.

In queued mode (``REDIS_URL``) the crawls end on workers, not here: the service reads the runs the
workers completed from ``crawl_runs`` every ``metrics_poll`` seconds (``follow``), each counted once.
Reading the one store every worker writes was picked over an exporter per worker because it needs
nothing more to scrape, and a run that a dead worker never completed still shows, once it is marked
``killed``.

Names (all prefixed ``newsmon_``; labels in braces):

    runs_total{site,outcome}                  crawls ended, by outcome (finished, degraded, failed, …)
    run_duration_seconds{site}                histogram of crawl wall-clock time
    pages_fetched_total{site}                 responses received
    articles_total{site,decision}             articles: new, updated, unchanged, skipped_known
    snippets_total{site,decision}             News Feed snippets: new, seen_again
    topic_flags_total{site,topic}             new and revised items that matched each topic
    journaled_items_total{site}               items journaled (store unavailable; written later)
    last_success_timestamp_seconds{site}      end of the last finished or degraded run (Unix time)
    health{site}                              last run's health: 0 passed, 1 warnings, 2 failed
    health_monitor_problems_total{site,monitor}  monitors that did not pass, by monitor
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

__all__ = ["FOLLOW_WINDOW", "HEALTH_VALUES", "SchedulerMetrics"]

logger = logging.getLogger(__name__)

HEALTH_VALUES = {"passed": 0, "warnings": 1, "failed": 2}
_DURATIONS = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
# How long `follow` remembers a counted run: a run completed this much later than its finished_at
# (a worker's clock behind the service's) would be missed; a day bounds the memory to a day's runs.
FOLLOW_WINDOW = timedelta(days=1)


class SchedulerMetrics:
    """The service's metrics in their own registry; ``observe`` one ended run at a time."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.runs = Counter("newsmon_runs", "Crawls ended, by outcome", ["site", "outcome"], registry=r)
        self.duration = Histogram("newsmon_run_duration_seconds", "Crawl wall-clock time", ["site"],
                                  buckets=_DURATIONS, registry=r)
        self.pages = Counter("newsmon_pages_fetched", "Responses received", ["site"], registry=r)
        self.articles = Counter("newsmon_articles", "Articles by decision", ["site", "decision"], registry=r)
        self.snippets = Counter("newsmon_snippets", "News Feed snippets by decision", ["site", "decision"],
                                registry=r)
        self.flags = Counter("newsmon_topic_flags", "New and revised items matching a topic", ["site", "topic"],
                             registry=r)
        self.journaled = Counter("newsmon_journaled_items", "Items journaled for a later write", ["site"],
                                 registry=r)
        self.last_success = Gauge("newsmon_last_success_timestamp_seconds",
                                  "End of the last finished or degraded run", ["site"], registry=r)
        self.health = Gauge("newsmon_health", "Last run's health: 0 passed, 1 warnings, 2 failed", ["site"],
                            registry=r)
        self.problems = Counter("newsmon_health_monitor_problems", "Health monitors that did not pass",
                                ["site", "monitor"], registry=r)
        self._lock = threading.Lock()
        self._counted: dict[str, float] = {}  # run id -> finished_at (Unix time), so no run is counted twice
        self.server: Any = None

    # --- feeding -------------------------------------------------------------------------------

    def seed(self, runs: Iterable[Mapping[str, Any]]) -> None:
        """Per-site gauges from earlier runs (newest first): last success time, last health."""
        seen_health: set[str] = set()
        seen_success: set[str] = set()
        for run in runs:
            site = str(run.get("site"))
            status = (run.get("health") or {}).get("status")
            if site not in seen_health and status in HEALTH_VALUES:
                seen_health.add(site)
                self.health.labels(site).set(HEALTH_VALUES[status])
            finished = run.get("finished_at")
            if site not in seen_success and run.get("outcome") in ("finished", "degraded") and finished:
                seen_success.add(site)
                self.last_success.labels(site).set(_timestamp(finished))

    def follow(self, runs: Iterable[Mapping[str, Any]], since: datetime) -> int:
        """Count the runs (``crawl_runs`` documents that ended at or after ``since``) not counted yet.

        A run counts once its runner completed it (``exit_code`` recorded, as ``run_scheduled_crawl``
        does after the crawl child exits) or it was marked ``killed`` for a process or worker gone;
        the crawl child's own final write, just before, is not yet the run's last word."""
        counted = 0
        for run in runs:
            ended = run.get("outcome") != "running" and isinstance(run.get("finished_at"), datetime)
            if ended and ("exit_code" in run or run.get("outcome") == "killed") \
                    and str(run.get("_id")) not in self._counted:
                self.observe(run)
                counted += 1
        with self._lock:  # forget what can no longer come back (finished before the window)
            self._counted = {k: v for k, v in self._counted.items() if v >= _timestamp(since)}
        return counted

    def observe(self, run: Mapping[str, Any]) -> None:
        """Count one ended run (its final ``crawl_runs`` document)."""
        site, outcome = str(run.get("site")), str(run.get("outcome"))
        summary, stats = run.get("summary") or {}, run.get("stats") or {}
        with self._lock:
            started, finished = run.get("started_at"), run.get("finished_at")
            if "_id" in run and isinstance(finished, datetime):
                self._counted[str(run["_id"])] = _timestamp(finished)
            self.runs.labels(site, outcome).inc()
            if isinstance(started, datetime) and isinstance(finished, datetime):
                self.duration.labels(site).observe(max(0.0, _timestamp(finished) - _timestamp(started)))
            self.pages.labels(site).inc(_int(summary.get("pages")))
            for decision, key in (("new", "articles_new"), ("updated", "articles_updated"),
                                  ("unchanged", "articles_unchanged"), ("skipped_known", "articles_skipped_known")):
                self.articles.labels(site, decision).inc(_int(summary.get(key)))
            self.snippets.labels(site, "new").inc(_int(summary.get("snippets_new")))
            self.snippets.labels(site, "seen_again").inc(_int(summary.get("snippets_seen_again")))
            for key, value in stats.items():
                topic = key.removeprefix("newsmon/topics/")
                if topic != key and not topic.startswith("skipped/"):
                    self.flags.labels(site, topic).inc(_int(value))
            self.journaled.labels(site).inc(_int(summary.get("journaled")))
            if outcome in ("finished", "degraded") and isinstance(finished, datetime):
                self.last_success.labels(site).set(_timestamp(finished))
            health = run.get("health") or {}
            if health.get("status") in HEALTH_VALUES:
                self.health.labels(site).set(HEALTH_VALUES[health["status"]])
            for monitor in health.get("monitors", []):
                if monitor.get("status") in ("failed", "warning"):
                    self.problems.labels(site, str(monitor.get("name"))).inc()

    # --- serving -------------------------------------------------------------------------------

    def start(self, port: int, address: str = "127.0.0.1") -> int:
        """Serve ``/metrics`` from a daemon thread; returns the port (``port`` 0 picks a free one)."""
        server, _thread = start_http_server(port, addr=address, registry=self.registry)
        self.server = server
        bound = int(server.server_address[1])
        logger.info("Serving Prometheus metrics on http://%s:%d/metrics", address, bound)
        return bound

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else 0


def _timestamp(value: datetime) -> float:
    from datetime import UTC

    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
