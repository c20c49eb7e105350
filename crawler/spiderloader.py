"""One spider per site profile, so ``scrapy list`` shows every site and ``scrapy crawl SITE`` works.

Scrapy's own loader imports spider modules; newsmon's sites are data (TOML), so this loader
builds a subclass of the one generic ``NewsSpider`` per profile instead. A profile that does not
validate is reported on stderr as one line (file, key, problem) and left out, so one typo does
not take every other site down with a traceback.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from crawler.errors import ProfileError
from crawler.profiles import SHIPPED_SITES_DIR, SiteProfile, profile_dirs, read_profiles

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.settings import BaseSettings

__all__ = ["ProfileSpiderLoader", "spider_class_for"]


def spider_class_for(profile: SiteProfile) -> type[Spider]:
    """A ``NewsSpider`` subclass bound to ``profile``, with its politeness as custom settings.

    A profile that renders (``render`` not "never") also gets newsmon's scrapy-playwright download
    handler for http/https; every other site keeps Scrapy's own handlers.
    """
    from crawler.spiders.news import NewsSpider

    custom_settings: dict[str, Any] = {
        "DOWNLOAD_DELAY": profile.download_delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": profile.concurrency,
    }
    if profile.download_maxsize is not None:
        custom_settings["DOWNLOAD_MAXSIZE"] = profile.download_maxsize
    if profile.render.enabled:
        # A string, not crawler.render itself: Playwright is imported only when a crawl of this
        # site builds its handlers, never by `scrapy list`.
        handler = "crawler.render.RenderDownloadHandler"
        custom_settings["DOWNLOAD_HANDLERS"] = {"http": handler, "https": handler}
    class_name = "".join(part.capitalize() for part in profile.name.replace("-", "_").split("_"))
    return type(
        f"{class_name}Spider",
        (NewsSpider,),
        {"name": profile.name, "profile": profile, "custom_settings": custom_settings,
         "__module__": NewsSpider.__module__},
    )


class ProfileSpiderLoader:
    """Scrapy spider loader over the profile directories."""

    def __init__(self, settings: BaseSettings) -> None:
        self._spiders: dict[str, type[Spider]] = {}
        self.broken: dict[str, ProfileError] = {}  # profile files left out, by name
        try:
            dirs = profile_dirs(settings.get("NEWSMON_SITES_DIR"))
        except ProfileError as exc:
            print(f"newsmon: {exc}", file=sys.stderr)
            dirs = [SHIPPED_SITES_DIR]
        found = read_profiles(dirs)
        self.broken = found.broken
        for exc in found.broken.values():
            print(f"newsmon: skipping site profile: {exc}", file=sys.stderr)
        for profile in found.profiles.values():
            self._spiders[profile.name] = spider_class_for(profile)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ProfileSpiderLoader:
        return cls(settings)

    def load(self, spider_name: str) -> type[Spider]:
        try:
            return self._spiders[spider_name]
        except KeyError:
            raise KeyError(f"Spider not found: {spider_name}") from None

    def list(self) -> list[str]:
        return sorted(self._spiders)

    def find_by_request(self, request: Request) -> list[str]:
        return [name for name, cls in self._spiders.items() if cls.profile.is_article_url(request.url)]  # type: ignore[attr-defined]
