"""Incremental re-crawls of the demo site: a re-run of an unchanged site costs little, and a
changed site yields exactly its changes."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_SITE_ARTICLES, run_newsmon


@pytest.fixture
def own_site():
    """A demo site of this test's own: the test edits it."""
    from crawler.demo import build_site, serve

    site = build_site(seed=7, n_articles=TEST_SITE_ARTICLES)
    server = serve(site)
    yield site, server
    server.close()


def _crawl(tier, server) -> dict:
    result = run_newsmon(["crawl", "demo", "-a", f"base_url={server.base_url}/"], tier.env())
    assert result.returncode == 0, result.stderr[-3000:]
    store = tier.open()
    try:
        (run,) = store.find("crawl_runs", {"site": "demo"}, sort=[("started_at", -1)], limit=1)
    finally:
        store.close()
    return run["stats"]


def test_recrawl_fetches_little_and_stores_exactly_the_changes(store_tier, own_site) -> None:
    site, server = own_site
    first = _crawl(store_tier, server)
    pages_first = first["downloader/response_status_count/200"]
    assert first["newsmon/store/articles/inserted"] == len(site.articles)

    second = _crawl(store_tier, server)
    pages_second = second.get("downloader/response_status_count/200", 0)
    assert pages_second <= 0.10 * pages_first, (pages_second, pages_first)
    assert second.get("newsmon/store/articles/inserted", 0) == 0
    assert second.get("newsmon/incremental/not_modified/listing", 0) >= 1
    # The article that answered 500 is asked for again: the listing that links it lost its
    # validators, so it was walked instead of answering 304 (the others still did).
    assert first.get("downloader/response_status_count/500", 0) >= 1
    assert second.get("downloader/response_status_count/500", 0) >= 1

    # The site edits 5 articles (with a modified date, as a CMS sets it) and publishes 3.
    editable = [a for a in site.articles if a.style.date_style in ("full", "jsonld", "meta")
                and not a.truncated and a.language == "en"][10:15]
    for article in editable:
        site.edit_article(article.path, [*article.paragraphs, "Update: officials confirmed the figures on Tuesday."])
    for n in range(3):
        site.add_article(f"Breaking story number {n} from the demo desk",
                         [f"Paragraph one of breaking story {n} tells what happened in the city today, "
                          "according to officials who spoke to reporters on condition of anonymity.",
                          f"Paragraph two of breaking story {n} adds the context readers need to follow it."])
    third = _crawl(store_tier, server)
    assert third.get("newsmon/store/articles/inserted", 0) == 3
    changed = third.get("newsmon/store/articles/updated", 0) + third.get("newsmon/dedupe/revision", 0) * 0
    assert changed == 5, sorted((k, v) for k, v in third.items() if k.startswith(("newsmon/", "downloader/response_status")))
    store = store_tier.open()
    try:
        assert store.count("articles") == len(site.articles)
        for article in editable:
            (doc,) = [d for d in store.find("articles", {"site": "demo"}) if d["url"].endswith(article.path)]
            assert doc["body"].endswith("Update: officials confirmed the figures on Tuesday.")
    finally:
        store.close()


def test_a_crawl_cut_short_leaves_nothing_for_the_next_to_miss(embedded, own_site) -> None:
    """A crawl that stopped before it fetched every article its listings, feeds and sitemaps
    linked (here its max_articles bound) must not leave their validators behind: the next crawl
    would get a 304 for each of them, walk none of their links, and never store the rest."""
    site, server = own_site
    cut = run_newsmon(["crawl", "demo", "-a", f"base_url={server.base_url}/", "-a", "max_articles=20"],
                      embedded.env())
    assert cut.returncode == 0, cut.stderr[-3000:]
    full = _crawl(embedded, server)
    store = embedded.open()
    try:
        stored = {a["url"] for a in store.find("articles", {"site": "demo"})}
    finally:
        store.close()
    assert len(stored) == len(site.articles), (len(stored), full.get("newsmon/incremental/not_modified/listing"))
