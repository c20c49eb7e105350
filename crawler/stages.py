"""Which of a crawl's stages and safeguards its settings switched off, and what is then not done.

A setting that switches a stage off is legitimate (a test crawl without topics, a dry run
without a store), but a monitor must never look complete while it is: every crawl logs the
switched-off stages as a WARNING at its start, the CLI summary prints them, and the run record
keeps them (``crawl_runs.stages_off``, shown by ``newsmon runs``).

A stage is also off when an override of ``ITEM_PIPELINES``, ``DOWNLOADER_MIDDLEWARES``,
``SPIDER_MIDDLEWARES`` or ``EXTENSIONS`` leaves its component out (``-s ITEM_PIPELINES={...}``
replaces the project's whole dict). That one is said the same way, and without identity and the
store stage in the item path (:func:`stores_items`) nothing that depends on storing runs: the fetch
state would vouch for articles that were never stored, so the next crawls would skip them for good,
and the journal's items would be replayed into nothing and deleted.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.utils.misc import load_object

from crawler.checks import check_setting, class_path

__all__ = ["COMPONENTS", "STAGE_SWITCHES", "StagesOffNotice", "component_in", "crawl_stages_off",
           "stages_off", "stores_items", "warn_stages_off"]

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


_NOT_STORED = "nothing is stored; the fetch state is not kept and the journal is not replayed"
#: the two pipelines an item must pass to be stored (the store stage takes only what identity decided)
_STORING = ("pipelines.identity.IdentityPipeline", "pipelines.store.StorePipeline")

#: newsmon's components that carry a stage (component dict, class path, the switch it answers to
#: or None, what is not done without it).
COMPONENTS: tuple[tuple[str, str, str | None, str], ...] = (
    ("ITEM_PIPELINES", "pipelines.clean.CleanPipeline", "CLEAN_ENABLED", STAGE_SWITCHES["CLEAN_ENABLED"]),
    ("ITEM_PIPELINES", _STORING[0], "STORE_ENABLED", _NOT_STORED),
    ("ITEM_PIPELINES", "pipelines.topics.TopicsPipeline", "TOPICS_ENABLED", STAGE_SWITCHES["TOPICS_ENABLED"]),
    ("ITEM_PIPELINES", _STORING[1], "STORE_ENABLED", _NOT_STORED),
    ("DOWNLOADER_MIDDLEWARES", "crawler.incremental.IncrementalCrawl", "INCREMENTAL_ENABLED",
     STAGE_SWITCHES["INCREMENTAL_ENABLED"]),
    ("DOWNLOADER_MIDDLEWARES", "crawler.sniff.ContentSniffMiddleware", "SNIFF_ENABLED",
     STAGE_SWITCHES["SNIFF_ENABLED"]),
    ("SPIDER_MIDDLEWARES", "crawler.replay.JournalReplay", "STORE_ENABLED",
     "the journal's items are not replayed (they wait in it)"),
    ("SPIDER_MIDDLEWARES", "crawler.drops.DropExceptionsMiddleware", "DROP_EXCEPTIONS_ENABLED",
     STAGE_SWITCHES["DROP_EXCEPTIONS_ENABLED"]),
    ("EXTENSIONS", "crawler.runs.CrawlRunRecorder", "CRAWL_RUNS_ENABLED",
     STAGE_SWITCHES["CRAWL_RUNS_ENABLED"]),
    ("EXTENSIONS", "crawler.stages.StagesOffNotice", None,
     "switched-off stages are not logged when the crawl starts (the summary and the run name them)"),
)


def component_in(settings: Any, setting: str, path: str) -> bool:
    """Whether the component dict ``setting`` (its ``_BASE`` merged, as Scrapy builds it) enables
    the class at ``path`` or a subclass of it (a user's own store stage built on newsmon's)."""
    wanted: type | None = None
    for key, order in settings.getwithbase(setting).items():
        if order is None:
            continue
        if class_path(key) == path:
            return True
        try:
            cls = load_object(key) if isinstance(key, str) else key
            wanted = wanted or load_object(path)
        except (ImportError, AttributeError, NameError, ValueError):
            continue  # Scrapy reports a component it cannot load when it builds the crawler
        if isinstance(cls, type) and issubclass(cls, wanted):
            return True
    return False


def stores_items(settings: Any) -> bool:
    """Whether this crawl stores items: ``STORE_ENABLED`` on and identity and the store stage in
    ``ITEM_PIPELINES``. What only makes sense for stored items (the fetch state that vouches for an
    article, the journal's replay) asks this, not ``STORE_ENABLED`` alone."""
    return bool(check_setting(settings, "STORE_ENABLED")) and all(
        component_in(settings, "ITEM_PIPELINES", path) for path in _STORING)


def stages_off(settings: Any) -> dict[str, str]:
    """The switched-off stages of these settings (setting name -> what is not done), in
    ``STAGE_SWITCHES`` order, then the components left out of their dicts (``ITEM_PIPELINES
    without pipelines.store.StorePipeline``) whose switch is on. ``ALERT_SINKS`` empty while
    topics are matched counts too: flags are then stored but nobody is told."""
    off = {name: effect for name, effect in STAGE_SWITCHES.items() if not check_setting(settings, name)}
    for setting, path, switch, effect in COMPONENTS:
        if (switch is None or switch not in off) and not component_in(settings, setting, path):
            off[f"{setting} without {path}"] = effect
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
                       "; ".join(f"{name}: {effect}" if " " in name else f"{name} off: {effect}"
                                 for name, effect in off.items()))


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
