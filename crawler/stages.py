"""Which of a crawl's stages and safeguards its settings switched off, and what is then not done.

A setting that switches a stage off is legitimate (a test crawl without topics, a dry run
without a store), but a monitor must never look complete while it is: every crawl logs the
switched-off stages as a WARNING at its start, the CLI summary prints them, and the run record
keeps them (``crawl_runs.stages_off``, shown by ``newsmon runs``).
"""

from __future__ import annotations

import logging
from typing import Any

from crawler.checks import check_setting

__all__ = ["STAGE_SWITCHES", "StagesOffNotice", "crawl_stages_off", "stages_off", "warn_stages_off"]

logger = logging.getLogger(__name__)

#: Boolean settings that are on by default and switch a stage or a safeguard off: what is not done.
STAGE_SWITCHES: dict[str, str] = {
    "STORE_ENABLED": "nothing is stored, journaled or recorded as a run",
    "CLEAN_ENABLED": "text is not normalized and unusable documents are not dropped",
    "DEDUPE_ENABLED": "duplicates and revisions are not recognised (plain upserts)",
    "TOPICS_ENABLED": "no item is matched against the topics: no topic flags, no alerts",
    "INCREMENTAL_ENABLED": "every page is fetched again (no conditional GETs, known articles re-fetched)",
    "HEALTH_ENABLED": "the crawl is not judged: no crawl_health verdict or alert",
    "CRAWL_RUNS_ENABLED": "no crawl_runs record",
    "SNIFF_ENABLED": "binary bytes served as text are parsed as pages",
    "DROP_EXCEPTIONS_ENABLED": "a callback's exception is not counted as a drop",
}


def stages_off(settings: Any) -> dict[str, str]:
    """The switched-off stages of these settings (setting name -> what is not done), in
    ``STAGE_SWITCHES`` order. ``ALERT_SINKS`` empty while topics are matched counts too: flags
    are then stored but nobody is told."""
    off = {name: effect for name, effect in STAGE_SWITCHES.items() if not check_setting(settings, name)}
    if "TOPICS_ENABLED" not in off and not check_setting(settings, "ALERT_SINKS"):
        off["ALERT_SINKS"] = "topic flags are stored but no alert is sent (no sink)"
    return off


_CRAWL_ATTRIBUTE = "_newsmon_stages_off"  # a crawl's stages_off, on its crawler


def crawl_stages_off(crawler: Any) -> dict[str, str]:
    """``stages_off`` of the crawl's settings, computed once per crawl: the notice and the run
    record read the same answer (its settings are frozen by the time either asks)."""
    off = getattr(crawler, _CRAWL_ATTRIBUTE, None)
    if off is None:
        off = stages_off(crawler.settings)
        setattr(crawler, _CRAWL_ATTRIBUTE, off)
    return off


def warn_stages_off(off: dict[str, str], site: str) -> None:
    """Log the switched-off stages ``off`` (``stages_off``'s answer) as one WARNING."""
    if off:
        logger.warning("Crawl of %s runs with stages switched off: %s", site,
                       "; ".join(f"{name} off: {effect}" for name, effect in off.items()))


class StagesOffNotice:
    """Extension: at spider_opened, the WARNING line and the ``newsmon/stages_off`` stat (the CLI
    summary and the run record read them)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> StagesOffNotice:
        from scrapy import signals

        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        return ext

    def spider_opened(self, spider: Any) -> None:
        off = crawl_stages_off(self.crawler)
        warn_stages_off(off, spider.name)
        if off:
            self.crawler.stats.set_value("newsmon/stages_off", sorted(off))
