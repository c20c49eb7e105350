"""Canonical URLs and the request dupefilter built on them."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.dupefilter import CanonicalDupeFilter
from pipelines.urls import article_url, canonical_url

BASE = "https://news.example.com/world/story-one/"
VARIANTS = [
    "HTTPS://News.Example.com:443/world/story-one/",
    "https://news.example.com/world/story-one/?utm_source=tw&utm_medium=social",
    "https://news.example.com/world/story-one/?fbclid=abc#comments",
    "https://news.example.com/world/story-one/amp/",
    "https://amp.news.example.com/world/story-one/?amp=1&gclid=x",
]


@pytest.mark.parametrize("url", VARIANTS)
def test_variants_share_one_canonical_form(url: str) -> None:
    assert canonical_url(url) == BASE


def test_query_is_sorted_and_real_parameters_kept() -> None:
    assert canonical_url("http://a.test/p?b=2&a=1&utm_campaign=z") == "http://a.test/p?a=1&b=2"
    assert canonical_url("http://a.test:8080/x") == "http://a.test:8080/x"


def test_amp_suffix_and_trailing_slash_policies() -> None:
    assert canonical_url("https://a.test/2024/story.amp.html") == "https://a.test/2024/story.html"
    assert canonical_url("https://a.test/story/", trailing_slash="strip") == "https://a.test/story"
    assert canonical_url("https://a.test/story", trailing_slash="add") == "https://a.test/story/"
    assert canonical_url("https://a.test/story.html", trailing_slash="add") == "https://a.test/story.html"
    assert canonical_url("https://a.test/", trailing_slash="strip") == "https://a.test/"
    with pytest.raises(ValueError, match="trailing_slash"):
        canonical_url("https://a.test/", trailing_slash="sometimes")


def test_declared_canonical_only_on_allowed_domains() -> None:
    fetched = "https://news.example.com/story/?utm_source=x"
    assert article_url("https://news.example.com/story/", fetched, ["example.com"]) == \
        "https://news.example.com/story/"
    # A canonical pointing elsewhere (a syndication partner, a spammer) is not trusted.
    assert article_url("https://other.test/copy/", fetched, ["example.com"]) == \
        "https://news.example.com/story/"
    assert article_url(None, fetched, ["example.com"]) == "https://news.example.com/story/"


def test_dupefilter_filters_every_variant_after_the_first() -> None:
    crawler = get_crawler(settings_dict={"DEDUPE_TRAILING_SLASH": "keep"})
    dupefilter = CanonicalDupeFilter.from_crawler(crawler)
    seen = [dupefilter.request_seen(Request(url)) for url in [BASE, *VARIANTS]]
    assert seen == [False] + [True] * len(VARIANTS)
    assert dupefilter.request_seen(Request("https://news.example.com/world/story-two/")) is False


def test_dupefilter_uses_the_site_trailing_slash_policy() -> None:
    crawler = get_crawler(settings_dict={"DEDUPE_TRAILING_SLASH_BY_SITE": {"default": "strip"}})
    dupefilter = CanonicalDupeFilter.from_crawler(crawler)
    assert dupefilter.trailing_slash == "strip"
    assert dupefilter.request_seen(Request("https://a.test/story/")) is False
    assert dupefilter.request_seen(Request("https://a.test/story")) is True
