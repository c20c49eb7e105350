"""The stats collector (crawler/stats.py): Scrapy's memory stats, the same answers."""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.stats import StatsCollector


def test_the_project_collects_stats_with_it_and_it_answers_as_scrapy_does() -> None:
    assert project_settings.STATS_CLASS == "crawler.stats.StatsCollector"
    results = []
    for cls in (MemoryStatsCollector, StatsCollector):
        stats = cls(get_crawler())
        stats.open_spider()
        stats.inc_value("newsmon/items/snippet")
        stats.inc_value("newsmon/items/snippet", 4)
        stats.set_value("a", 1)
        stats.max_value("a", 3)
        stats.min_value("b", 2)
        stats.inc_value("newsmon/time/clean_ms", 0.5, start=1.0)
        results.append((stats.get_stats(), stats.get_value("a"), stats.get_value("missing", "-")))
    assert results[0] == results[1]
    assert results[1][0]["newsmon/items/snippet"] == 5
