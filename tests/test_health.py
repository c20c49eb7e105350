"""Crawl health: each monitor against a stats dict, the verdict, the profile's [health] table, and
real crawls of the demo site: one whose article count collapses raises one alert, healthy ones none."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from crawler.errors import ProfileError
from crawler.health import (
    ArticlesMonitor,
    ArticlesVsRecentMonitor,
    DropRateMonitor,
    ErrorRateMonitor,
    FinishReasonMonitor,
    HealthThresholds,
    MissingFieldMonitor,
    PagesMonitor,
    RuntimeMonitor,
    evaluate,
)
from crawler.profiles import parse_profile
from tests.conftest import run_newsmon

LIMITS = HealthThresholds.defaults()
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def run(stats: dict | None = None, *, reason: str = "finished", seconds: float = 10.0) -> dict:
    return {"_id": "r", "site": "demo", "finish_reason": reason, "started_at": T0,
            "finished_at": T0 + timedelta(seconds=seconds), "stats": stats or {}}


def healthy(articles: int = 100) -> dict:
    return run({"response_received_count": articles + 20, "newsmon/items/article": articles,
                "newsmon/items/snippet": 40, "newsmon/errors/http_404": 1})


def status(monitor, stats_run: dict, history=(), limits=LIMITS) -> str:
    return monitor.check(stats_run, list(history), limits).status


def test_finish_reason() -> None:
    assert status(FinishReasonMonitor(), run(reason="finished")) == "passed"
    assert status(FinishReasonMonitor(), run(reason="closespider_itemcount")) == "passed"
    assert status(FinishReasonMonitor(), run(reason="closespider_timeout")) == "failed"
    assert status(FinishReasonMonitor(), run(reason="shutdown")) == "failed"


def test_pages_fetched_zero_fails() -> None:
    assert status(PagesMonitor(), run({"response_received_count": 0})) == "failed"
    assert status(PagesMonitor(), run({"response_received_count": 1})) == "passed"


def test_articles_found() -> None:
    assert status(ArticlesMonitor(), run({"response_received_count": 5})) == "failed"
    assert status(ArticlesMonitor(), run({"newsmon/incremental/skipped_known": 3})) == "passed"
    # Unchanged listings (304) hide their articles: no verdict, not a failure.
    assert status(ArticlesMonitor(), run({"newsmon/incremental/not_modified/listing": 9})) == "skipped"


def test_articles_far_below_the_median_of_recent_runs() -> None:
    history = [healthy(100), healthy(90), healthy(120)]
    result = ArticlesVsRecentMonitor().check(healthy(20), history, LIMITS)
    assert (result.status, result.figure, result.threshold) == ("failed", 20, 50.0)
    assert status(ArticlesVsRecentMonitor(), healthy(60), history) == "passed"
    assert status(ArticlesVsRecentMonitor(), healthy(20), history[:2]) == "skipped"  # too little history


def test_error_and_drop_rates() -> None:
    assert status(ErrorRateMonitor(), run({"response_received_count": 10, "newsmon/errors/http_500": 2})) == "passed"
    assert status(ErrorRateMonitor(), run({"response_received_count": 10, "newsmon/errors/http_500": 3,
                                           "newsmon/errors/timeout": 1})) == "warning"
    assert status(ErrorRateMonitor(), run({})) == "skipped"
    assert status(DropRateMonitor(), run({"newsmon/items/article": 9, "newsmon/drop/no_title": 1})) == "passed"
    assert status(DropRateMonitor(), run({"newsmon/items/article": 6, "newsmon/drop/no_body": 4})) == "warning"


def test_runtime() -> None:
    assert status(RuntimeMonitor(), run(seconds=10)) == "passed"
    assert status(RuntimeMonitor(), run(seconds=4000)) == "warning"
    assert status(RuntimeMonitor(), run(seconds=4000), limits=HealthThresholds.defaults(max_runtime=0)) == "skipped"


@pytest.mark.parametrize(("field", "stats", "expected"), [
    ("date", {"newsmon/items/article": 10, "newsmon/clean/missing/date": 2}, "passed"),
    ("date", {"newsmon/items/article": 10, "newsmon/clean/missing/date": 3}, "warning"),
    ("author", {"newsmon/items/article": 10, "newsmon/clean/missing/author": 6}, "warning"),
    ("title", {"newsmon/items/article": 9, "newsmon/drop/no_title": 1}, "warning"),
    ("body", {"newsmon/items/article": 100, "newsmon/drop/no_body": 1}, "passed"),
    ("body", {}, "skipped"),
])
def test_missing_fields(field: str, stats: dict, expected: str) -> None:
    assert status(MissingFieldMonitor(field), run(stats)) == expected


def test_verdict_is_the_worst_monitor() -> None:
    history = [healthy(100)] * 3
    assert evaluate(healthy(100), history, LIMITS).status == "passed"
    warned = healthy(100)
    warned["stats"]["newsmon/clean/missing/author"] = 80
    assert evaluate(warned, history, LIMITS).status == "warnings"
    verdict = evaluate(healthy(10), history, LIMITS)
    assert verdict.status == "failed"
    doc = verdict.as_doc()
    (bad,) = [m for m in doc["monitors"] if m["status"] == "failed"]
    assert bad == {"name": "articles_vs_recent", "status": "failed", "figure": 10, "threshold": 50.0,
                   "detail": bad["detail"]}


def test_profile_health_table_overrides_settings() -> None:
    base = {"name": "x", "base_url": "https://x.example/", "start": {"sections": {"news": "/news/"}}}
    profile = parse_profile("x.toml", {**base, "health": {"min_articles": 0, "max_missing": {"author": 1.0}}})
    limits = LIMITS.for_profile(profile.health)
    assert limits.min_articles == 0 and limits.max_missing["author"] == 1.0 and limits.max_missing["date"] == 0.2
    with pytest.raises(ProfileError, match=r"health\.max_drop_rate: must be"):
        parse_profile("x.toml", {**base, "health": {"max_drop_rate": 3}})
    with pytest.raises(ProfileError, match=r"health\.min_article: unknown key"):
        parse_profile("x.toml", {**base, "health": {"min_article": 0}})


# --- real crawls ---------------------------------------------------------------------------------


def test_a_collapsed_crawl_raises_one_health_alert_and_healthy_ones_none(store_tier, tmp_path, demo_server) -> None:
    """Crawl the demo site twice fully (healthy, the second compared with the first), then with
    ``max_articles=2``: the collapse fails ``articles_vs_recent`` and sends one alert."""
    tier = store_tier
    alerts = tmp_path / "alerts.jsonl"
    common = ["-a", f"base_url={demo_server.base_url}/", "-s", "ALERT_SINKS=jsonl", "-s",
              f"ALERT_JSONL_PATH={alerts}", "-s", "HEALTH_HISTORY_MIN_RUNS=1",
              "-s", "INCREMENTAL_ENABLED=False", "-s", "TOPICS_ENABLED=False"]

    def crawl(*extra: str) -> list[dict]:
        result = run_newsmon(["crawl", "demo", *common, *extra], tier.env())
        assert result.returncode == 0, result.stderr[-3000:]
        lines = alerts.read_text().splitlines() if alerts.exists() else []
        return [a for a in map(json.loads, lines) if a["event"] == "crawl_health"]

    assert crawl() == []
    assert crawl() == []
    (alert,) = crawl("-a", "max_articles=2")
    assert alert["status"] == "failed" and alert["site"] == "demo"
    assert [p["name"] for p in alert["problems"]] == ["articles_vs_recent"]

    store = tier.open()
    try:
        runs = list(store.find("crawl_runs", {"site": "demo"}, sort=[("started_at", 1)]))
    finally:
        store.close()
    assert [r["health"]["status"] for r in runs] == ["passed", "passed", "failed"]
    compared = {m["name"]: m for m in runs[1]["health"]["monitors"]}["articles_vs_recent"]
    assert compared["status"] == "passed" and compared["figure"] >= compared["threshold"] > 0
    assert alert["run_id"] == runs[2]["_id"]

    failing = run_newsmon(["runs", "--failed", "--json"], tier.env())
    assert [json.loads(line)["_id"] for line in failing.stdout.splitlines()] == [runs[2]["_id"]]
    shown = run_newsmon(["status", "--json"], tier.env())
    demo = next(row for row in map(json.loads, shown.stdout.splitlines()) if row.get("site") == "demo")
    assert demo["health"] == "failed"
