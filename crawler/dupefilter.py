"""Request dedupe on the canonical URL: one article is fetched once, whatever its spelling.

Scrapy's ``RFPDupeFilter`` fingerprints the w3lib-canonicalized URL, which still tells
``/story/?utm_source=x`` from ``/story/`` and ``/story/amp/`` from ``/story/``. This filter
fingerprints the request with its URL replaced by ``pipelines.urls.canonical_url`` (tracking
parameters and AMP markers dropped, trailing slash per ``DEDUPE_TRAILING_SLASH``), so those are
one request. Requests with ``dont_filter=True`` are never filtered (Scrapy's rule).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.dupefilters import RFPDupeFilter

from pipelines.urls import canonical_url

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from typing_extensions import Self

__all__ = ["CanonicalDupeFilter", "trailing_slash_policy"]


def trailing_slash_policy(settings: object, site: str | None) -> str:
    """The trailing-slash policy of ``site``: ``DEDUPE_TRAILING_SLASH_BY_SITE[site]``, else
    ``DEDUPE_TRAILING_SLASH`` ("keep", "strip" or "add")."""
    from crawler.checks import check_setting

    by_site = check_setting(settings, "DEDUPE_TRAILING_SLASH_BY_SITE") or {}
    policy = by_site.get(site) if site else None
    return str(policy or check_setting(settings, "DEDUPE_TRAILING_SLASH"))


class CanonicalDupeFilter(RFPDupeFilter):
    """``RFPDupeFilter`` over ``canonical_url(request.url)``."""

    trailing_slash = "keep"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        dupefilter = super().from_crawler(crawler)
        name = getattr(crawler.spidercls, "name", None)
        policy = trailing_slash_policy(crawler.settings, name)
        canonical_url("http://x/", trailing_slash=policy)  # ValueError early on a bad policy
        dupefilter.trailing_slash = policy
        return dupefilter

    def request_seen(self, request: Request) -> bool:
        try:
            url = canonical_url(request.url, trailing_slash=self.trailing_slash)
        except ValueError:  # an unparsable URL: fall back to Scrapy's own fingerprint
            return super().request_seen(request)
        if url != request.url:
            request = request.replace(url=url)
        return super().request_seen(request)
