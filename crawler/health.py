"""Crawl health: after every crawl, small monitors compare its figures with thresholds and with the
site's recent runs, and the verdict is written on the ``crawl_runs`` document as ``health``.

Shaped like spidermon's monitors (one figure, one threshold, one comparison each), but run
in-process by :class:`crawler.runs.CrawlRunRecorder` at spider close, because the verdict needs
the site's previous runs from the store and must land on the same run document. Spidermon itself
was not used: its runner is a unittest suite with its own result and action machinery, and none of
it reads ``crawl_runs`` history or writes back to it.

Each monitor measures one figure of the run document (``summary``, ``stats``, ``outcome``) and
returns ``passed``, ``skipped`` (no data to judge, e.g. too little history) or its ``level``
(``failed`` or ``warning``) when the figure is on the wrong side of its threshold. The run's
``health`` is::

    {"status": "passed" | "warnings" | "failed", "checked_at": datetime,
     "monitors": [{"name", "status", "figure", "threshold", "detail"}, ...]}

Thresholds are the ``HEALTH_*`` settings (``crawler/settings.py``), overridden per site by the
profile's ``[health]`` table (the setting's name without ``HEALTH_``, lower case:
``min_articles = 0``). A ``failed`` verdict (or ``warnings`` too, with ``HEALTH_ALERT_ON``) is
sent once through the alert sinks as an ``event: crawl_health`` alert.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any, ClassVar

from crawler.checks import check_setting

__all__ = ["MONITORS", "PROFILE_KEYS", "CrawlHealth", "Health", "HealthThresholds", "Monitor", "MonitorResult",
           "NotArticleRateMonitor", "articles_found", "evaluate", "health_alert", "history_query"]

logger = logging.getLogger(__name__)

STATUSES = ("passed", "warnings", "failed")
FIELDS = ("title", "date", "author", "body")

# --- thresholds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthThresholds:
    """The HEALTH_* settings, read once; ``for_profile`` applies a site's ``[health]`` table.
    No defaults here: they are written once, in ``crawler/settings.py`` (``defaults()``)."""

    min_pages: int
    min_articles: int
    articles_min_ratio: float
    history_runs: int
    history_min_runs: int
    max_error_rate: float
    max_drop_rate: float
    max_not_article_rate: float
    max_runtime: float
    max_missing: Mapping[str, float]
    finish_reasons: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Any) -> HealthThresholds:
        values = {f.name: check_setting(settings, "HEALTH_" + f.name.upper()) for f in fields(cls)}
        values["finish_reasons"] = tuple(values["finish_reasons"])
        return cls(**values)

    @classmethod
    def defaults(cls, **changes: Any) -> HealthThresholds:
        """The default thresholds (a setting missing from the settings gets its default), with
        ``changes`` applied."""
        return replace(cls.from_settings({}), **changes)

    def for_profile(self, overrides: Mapping[str, Any]) -> HealthThresholds:
        """These thresholds with a profile's ``[health]`` values (already validated) applied."""
        if not overrides:
            return self
        values = dict(overrides)
        if "max_missing" in values:
            values["max_missing"] = {**self.max_missing, **values["max_missing"]}
        if "finish_reasons" in values:
            values["finish_reasons"] = tuple(values["finish_reasons"])
        return replace(self, **values)


#: Keys a profile's ``[health]`` table may set (each checked by its HEALTH_* setting's rule).
PROFILE_KEYS = tuple(f.name for f in fields(HealthThresholds))

# --- monitors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonitorResult:
    name: str
    status: str  # passed | skipped | warning | failed
    figure: Any
    threshold: Any
    detail: str = ""

    def as_doc(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "figure": self.figure,
                "threshold": self.threshold, "detail": self.detail}


def _get(stats: Mapping[str, Any], key: str) -> int:
    value = stats.get(key, 0)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _sum(stats: Mapping[str, Any], prefix: str) -> int:
    return sum(_get(stats, k) for k in stats if k.startswith(prefix))


def articles_found(run: Mapping[str, Any]) -> int:
    """Articles a crawl extracted or knew unchanged without fetching (an incremental re-crawl)."""
    stats = run.get("stats") or {}
    return _get(stats, "newsmon/items/article") + _get(stats, "newsmon/incremental/skipped_known")


def _unchanged_pages(run: Mapping[str, Any]) -> int:
    return _sum(run.get("stats") or {}, "newsmon/incremental/not_modified/")


class Monitor:
    """One figure of a run, one threshold, one comparison (spidermon's shape)."""

    name: ClassVar[str]
    level: ClassVar[str] = "failed"

    def check(self, run: Mapping[str, Any], history: Sequence[Mapping[str, Any]],
              limits: HealthThresholds) -> MonitorResult:
        raise NotImplementedError

    def _result(self, bad: bool, figure: Any, threshold: Any, detail: str) -> MonitorResult:
        return MonitorResult(self.name, self.level if bad else "passed", figure, threshold, detail)

    def _skip(self, figure: Any, threshold: Any, detail: str) -> MonitorResult:
        return MonitorResult(self.name, "skipped", figure, threshold, detail)

    def _share(self, part: int, whole: int, threshold: float | None, detail: str, empty: str) -> MonitorResult:
        """Failed (or warned) when ``part / whole`` is above ``threshold``; skipped without data."""
        if threshold is None or not whole:
            return self._skip(None, threshold, empty if not whole else "no threshold")
        share = round(part / whole, 4)
        return self._result(share > threshold, share, threshold, detail)

    def _few_articles(self, run: Mapping[str, Any], found: int, floor: float, detail: str) -> MonitorResult:
        """Failed when ``found < floor``, unless listings answered 304: an unchanged listing hides
        its articles from an incremental re-crawl (a redesign changes the pages, so it is no 304)."""
        unchanged = _unchanged_pages(run)
        if found < floor and unchanged:
            return self._skip(found, floor, f"{detail}; {unchanged} pages not modified (HTTP 304)")
        return self._result(found < floor, found, floor, detail)


class FinishReasonMonitor(Monitor):
    """Scrapy's close reason is one of ``finish_reasons`` (``closespider_*`` limits count as finished)."""

    name = "finish_reason"

    def check(self, run, history, limits):
        reason = str(run.get("finish_reason") or "")
        ok = reason in limits.finish_reasons or ("finished" in limits.finish_reasons
                                                 and reason.startswith("closespider_")
                                                 and reason != "closespider_timeout")
        return self._result(not ok, reason, list(limits.finish_reasons), f"closed with {reason!r}")


class PagesMonitor(Monitor):
    """Pages fetched (responses received) at least ``min_pages``."""

    name = "pages_fetched"

    def check(self, run, history, limits):
        pages = _get(run.get("stats") or {}, "response_received_count")
        return self._result(pages < limits.min_pages, pages, limits.min_pages,
                            f"{pages} pages fetched, at least {limits.min_pages} expected")


class ArticlesMonitor(Monitor):
    """Articles found at least ``min_articles``."""

    name = "articles_found"

    def check(self, run, history, limits):
        found = articles_found(run)
        return self._few_articles(run, found, limits.min_articles,
                                  f"{found} articles, at least {limits.min_articles} expected")


class ArticlesVsRecentMonitor(Monitor):
    """Articles found at least ``articles_min_ratio`` × the median of the site's recent runs."""

    name = "articles_vs_recent"

    def check(self, run, history, limits):
        found = articles_found(run)
        counts = [articles_found(r) for r in history]
        if len(counts) < max(1, limits.history_min_runs):
            return self._skip(found, None, f"{len(counts)} earlier runs, {limits.history_min_runs} needed")
        median = statistics.median(counts)
        floor = round(limits.articles_min_ratio * median, 2)
        return self._few_articles(run, found, floor,
                                  f"{found} articles; median of the last {len(counts)} runs is {median:g}, "
                                  f"at least {limits.articles_min_ratio:g} × that expected")


class ErrorRateMonitor(Monitor):
    """Share of fetched pages that were errors (``newsmon/errors/*``) at most ``max_error_rate``."""

    name = "error_rate"
    level = "warning"

    def check(self, run, history, limits):
        stats = run.get("stats") or {}
        pages, errors = _get(stats, "response_received_count"), _sum(stats, "newsmon/errors/")
        return self._share(errors, pages, limits.max_error_rate, f"{errors} errors in {pages} pages",
                           "no pages fetched")


class DropRateMonitor(Monitor):
    """Share of items dropped (``newsmon/drop/*``) at most ``max_drop_rate``."""

    name = "drop_rate"
    level = "warning"

    def check(self, run, history, limits):
        stats = run.get("stats") or {}
        dropped = _sum(stats, "newsmon/drop/")
        kept = _get(stats, "newsmon/items/article") + _get(stats, "newsmon/items/snippet")
        return self._share(dropped, dropped + kept, limits.max_drop_rate,
                           f"{dropped} of {dropped + kept} items dropped", "no items")


class NotArticleRateMonitor(Monitor):
    """Share of article pages fetched that gave no article (``newsmon/pages/not_article/*``: not
    extracted as one, an empty page, a soft 404) at most ``max_not_article_rate``.

    The loss a new site or a redesign causes without any error: the pages answer 200, the
    extractor finds no article in them, and the crawl would otherwise look healthy."""

    name = "not_article_rate"
    level = "warning"
    # A share of a handful of pages says little (a crawl bounded by -a max_articles=2 meets the
    # site's two broken pages first); a site whose every page fails has articles_found.
    min_pages: ClassVar[int] = 10

    def check(self, run, history, limits):
        stats = run.get("stats") or {}
        missed = _sum(stats, "newsmon/pages/not_article/")
        pages = missed + _get(stats, "newsmon/pages/article")
        if 0 < pages < self.min_pages:
            return self._skip(missed, limits.max_not_article_rate,
                              f"{missed} of {pages} article pages gave no article: too few to judge")
        return self._share(missed, pages, limits.max_not_article_rate,
                           f"{missed} of {pages} article pages gave no article", "no article pages")


class RuntimeMonitor(Monitor):
    """The crawl took at most ``max_runtime`` seconds (0 = not checked)."""

    name = "runtime"
    level = "warning"

    def check(self, run, history, limits):
        started, finished = run.get("started_at"), run.get("finished_at")
        seconds = round((finished - started).total_seconds(), 1) if started and finished else None
        if seconds is None or not limits.max_runtime:
            return self._skip(seconds, limits.max_runtime or None, "not measured")
        return self._result(seconds > limits.max_runtime, seconds, limits.max_runtime, f"{seconds:g} s")


class MissingFieldMonitor(Monitor):
    """Share of articles missing one field at most ``max_missing[field]``.

    Title and body: articles dropped for lacking them (``newsmon/drop/no_title``, ``no_body``)
    among all articles extracted; date and author: ``newsmon/clean/missing/<field>`` among the
    articles kept.
    """

    level = "warning"
    _DROPS = ("no_title", "no_body", "body_too_short")

    def __init__(self, field_name: str) -> None:
        self.field = field_name
        self.name = f"missing_{field_name}"  # type: ignore[misc]

    def check(self, run, history, limits):
        stats = run.get("stats") or {}
        threshold = limits.max_missing.get(self.field)
        kept = _get(stats, "newsmon/items/article")
        if self.field in ("title", "body"):
            missing = _get(stats, f"newsmon/drop/no_{self.field}")
            total = kept + sum(_get(stats, f"newsmon/drop/{d}") for d in self._DROPS)
        else:
            missing, total = _get(stats, f"newsmon/clean/missing/{self.field}"), kept
        return self._share(missing, total, threshold, f"{missing} of {total} articles without {self.field}",
                           "no articles")


MONITORS: tuple[Monitor, ...] = (
    FinishReasonMonitor(), PagesMonitor(), ArticlesMonitor(), ArticlesVsRecentMonitor(),
    ErrorRateMonitor(), DropRateMonitor(), NotArticleRateMonitor(), RuntimeMonitor(), *(MissingFieldMonitor(f) for f in FIELDS),
)

# --- the verdict ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    status: str
    results: tuple[MonitorResult, ...]
    checked_at: datetime

    @property
    def problems(self) -> list[MonitorResult]:
        return [r for r in self.results if r.status in ("failed", "warning")]

    def as_doc(self) -> dict[str, Any]:
        return {"status": self.status, "checked_at": self.checked_at,
                "monitors": [r.as_doc() for r in self.results]}


def evaluate(run: Mapping[str, Any], history: Iterable[Mapping[str, Any]], limits: HealthThresholds,
             monitors: Sequence[Monitor] = MONITORS) -> Health:
    """Run every monitor on ``run`` (a crawl_runs document) given the site's earlier runs."""
    earlier = list(history)
    results = tuple(m.check(run, earlier, limits) for m in monitors)
    states = {r.status for r in results}
    status = "failed" if "failed" in states else "warnings" if "warning" in states else "passed"
    return Health(status, results, datetime.now(UTC))


def history_query(site: str, run_id: str) -> dict[str, Any]:
    """The earlier runs a verdict compares with: the site's completed ones, this one excluded."""
    return {"site": site, "_id": {"$ne": run_id}, "outcome": {"$in": ["finished", "degraded"]}}


def health_alert(run: Mapping[str, Any], health: Health) -> dict[str, Any]:
    """The alert sent through the sinks for an unhealthy run."""
    problems = health.problems
    return {
        "_id": f"health:{run.get('_id')}", "event": "crawl_health", "site": run.get("site"),
        "run_id": run.get("_id"), "status": health.status, "outcome": run.get("outcome"),
        "finished_at": run.get("finished_at"),
        "problems": [r.as_doc() for r in problems],
        "summary": "; ".join(f"{r.name}: {r.detail}" for r in problems),
    }


# --- at spider close ----------------------------------------------------------------------------


class CrawlHealth:
    """Judges a closing crawl's run document and alerts through the sinks when it is unhealthy."""

    def __init__(self, limits: HealthThresholds, alert_on: str, alert_config: Any, count: Any) -> None:
        self.limits = limits
        self.alert_on = alert_on
        self.alert_config = alert_config
        self._count = count

    @classmethod
    def from_crawler(cls, crawler: Any, data_dir: Any) -> CrawlHealth | None:
        """None when ``HEALTH_ENABLED`` is off."""
        from pipelines.alerts import AlertConfig

        settings = crawler.settings
        if not check_setting(settings, "HEALTH_ENABLED"):
            return None

        def count(sink: str, outcome: str, n: int) -> None:
            if n and crawler.stats is not None:
                crawler.stats.inc_value(f"newsmon/alerts/{sink}/{outcome}", n)

        return cls(HealthThresholds.from_settings(settings), check_setting(settings, "HEALTH_ALERT_ON"),
                   AlertConfig.from_settings(settings, data_dir), count)

    def limits_for(self, spider: Any) -> HealthThresholds:
        profile = getattr(spider, "profile", None)
        return self.limits.for_profile(getattr(profile, "health", None) or {})

    def judge(self, store: Any, run: Mapping[str, Any], spider: Any) -> Health:
        """The verdict on ``run``, compared with the site's recent runs in ``store`` (None: none)."""
        limits = self.limits_for(spider)
        history = [] if store is None else list(store.find(
            "crawl_runs", history_query(str(run.get("site")), str(run.get("_id"))),
            sort=[("started_at", -1)], limit=limits.history_runs))
        return evaluate(run, history, limits)

    def should_alert(self, health: Health) -> bool:
        return self.alert_on != "never" and (
            health.status == "failed" or (self.alert_on == "warnings" and health.status == "warnings"))

    async def announce(self, run: Mapping[str, Any], health: Health) -> None:
        """One alert through every configured sink, when the verdict calls for it."""
        from pipelines.alerts import build_sinks

        for result in health.problems:
            logger.warning("Crawl health of %s: %s %s: %s (threshold %s)", run.get("site"), result.status,
                           result.name, result.detail, result.threshold)
        if not self.should_alert(health):
            return
        sinks = build_sinks(self.alert_config, self._count)
        for sink in sinks:
            sink.open()
        alert = health_alert(run, health)
        for sink in sinks:
            sink.send([alert])
        for sink in sinks:
            await sink.close()
