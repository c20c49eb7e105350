"""End to end: real crawls of the JS fixture site, where some pages only have content in a browser.

Each test writes a profile for the fixture into a temp NEWSMON_SITES_DIR, runs ``newsmon crawl``
in a child process (Chromium from the machine, pages on 127.0.0.1) and asserts on what was stored,
on the crawl's stats and on which paths the server saw. Skipped only when Chromium is missing and
``CI`` is unset: in CI (where ``deploy/dev.sh test`` installs it) a missing browser fails.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.settings import Settings

from crawler.demo.jsfixture import build_js_site, js_profile_toml, serve_js
from crawler.render import check_browser
from tests.conftest import StoreTier, run_newsmon

BROWSER_PROBLEM = check_browser(Settings())
pytestmark = pytest.mark.skipif(
    bool(BROWSER_PROBLEM) and not os.environ.get("CI"),
    reason=f"{BROWSER_PROBLEM} (CI installs it; these tests fail there instead of skipping)",
)


@pytest.fixture(scope="module")
def js_site():
    return build_js_site()


@pytest.fixture
def js_server(js_site):
    server = serve_js(js_site)  # per test: hit counts belong to one crawl
    yield server
    server.close()


def _crawl(tmp_path: Path, server, render: str, *extra: str, name: str = "jsnews"):
    assert not BROWSER_PROBLEM, BROWSER_PROBLEM
    sites = tmp_path / "sites"
    sites.mkdir(exist_ok=True)
    (sites / f"{name}.toml").write_text(js_profile_toml(name, server.base_url + "/", render))
    tier = StoreTier("embedded", tmp_path / "data")
    env = tier.env() | {"NEWSMON_SITES_DIR": str(sites)}
    result = run_newsmon(["crawl", name, *extra], env, timeout=240)
    store = tier.open()
    try:
        articles = {urlsplit(d["url"]).path: d for d in store.find("articles", {"site": name})}
        snippets = {d["headline"]: d for d in store.find("feed_snippets", {"site": name})}
        runs = list(store.find("crawl_runs", {"site": name}))
    finally:
        store.close()
    return result, articles, snippets, (runs[0]["stats"] if runs else {})


def test_rendered_listing_and_feed_with_show_more_plain_pages_without_browser(tmp_path, js_site, js_server) -> None:
    render = """[render]
mode = "always"
urls = ['^/news/$']
wait_for = "aside.news-feed .news-feed__item"
click = "button.show-more"
click_times = 3
timeout = 15
"""
    result, articles, snippets, stats = _crawl(tmp_path, js_server, render)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]

    # Links that exist only after the listing's script ran, and after "Show More" was clicked.
    for path in js_site.script_only_articles:
        assert path in articles, (path, sorted(articles))
        assert articles[path]["title"] == js_site.titles[path]
    for path in js_site.static_articles:
        assert path in articles
    # The scripted-body article is fetched plain here (not selected): no body, not stored.
    assert js_site.js_body_article not in articles
    # News Feed items built by script, beside the static ones.
    for _, headline, text in js_site.js_snippets:
        assert headline in snippets and snippets[headline]["text"] == text
    for _, headline, _ in js_site.static_snippets:
        assert headline in snippets

    # Exactly one page went through the browser; every other page over plain HTTP.
    assert stats["newsmon/render/pages"] == 1
    assert stats["newsmon/render/pages/listing"] == 1
    assert stats["newsmon/render/clicks"] == 1  # the button is gone after one click
    assert stats.get("newsmon/render/failed", 0) == 0
    assert stats.get("newsmon/render/wait_missed", 0) == 0
    assert stats["newsmon/render/plain"] >= len(articles) + 1  # articles + /archive/ (+ robots)
    assert stats["playwright/page_count"] == 1
    assert stats["newsmon/render/browser_launched"] == 1
    # Image and the analytics tag were blocked; the JSON the page's scripts need was not.
    assert stats["newsmon/render/aborted/image"] >= 1
    assert stats["newsmon/render/aborted/tracker"] >= 1
    assert stats["newsmon/render/seconds"] > 0
    hits = js_server.hits
    assert hits["/news/"] == 1 and hits["/api/feed.json"] == 1 and hits["/api/more.json"] == 1
    assert hits["/img/hero.jpg"] == 0
    assert all(hits[p] == 1 for p in js_site.static_articles)  # each fetched once, plainly


def test_auto_renders_only_pages_whose_static_html_is_empty(tmp_path, js_site, js_server) -> None:
    render = """[render]
mode = "auto"
[render.listing]
click = "button.show-more"
wait_for = "#list li"
"""
    result, articles, snippets, stats = _crawl(tmp_path, js_server, render)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]

    for path in (*js_site.script_only_articles, *js_site.static_articles, js_site.js_body_article):
        assert path in articles, (path, sorted(articles))
    body = articles[js_site.js_body_article]["body"]
    assert body.startswith("Story 99 paragraph 1:")
    for _, headline, _ in js_site.js_snippets:
        assert headline in snippets

    # /news/ (no links, no feed) and /a/js-story/ (no body) fell back; nothing else did.
    assert stats["newsmon/render/auto_fallback"] == 2
    assert stats["newsmon/render/auto_fallback/links"] == 1
    assert stats["newsmon/render/auto_fallback/news_feed"] == 1  # /news/ lacked both
    assert stats["newsmon/render/auto_fallback/body"] == 1
    assert stats["newsmon/render/pages"] == 2
    assert stats["newsmon/render/pages/listing"] == 1 and stats["newsmon/render/pages/article"] == 1
    assert stats["playwright/page_count"] == 2
    hits = js_server.hits
    assert hits["/news/"] == 2 and hits[js_site.js_body_article] == 2  # plain, then rendered
    assert all(hits[p] == 1 for p in js_site.static_articles)


def test_auto_never_starts_the_browser_when_static_pages_suffice(tmp_path, js_site, js_server) -> None:
    render = 'render = { mode = "auto", urls = ["^/archive/$"] }'
    result, articles, _, stats = _crawl(tmp_path, js_server, render)
    assert result.returncode == 0, result.stderr[-4000:]
    assert set(js_site.static_articles) <= set(articles)
    assert stats.get("newsmon/render/auto_fallback", 0) == 0
    assert "newsmon/render/browser_launched" not in stats
    assert not any(key.startswith("playwright/") for key in stats), \
        [k for k in stats if k.startswith("playwright/")]


def test_missing_browser_is_one_line_and_closes_the_spider(tmp_path, js_server) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "jsnews.toml").write_text(js_profile_toml("jsnews", js_server.base_url + "/",
                                                       'render = "always"'))
    tier = StoreTier("embedded", tmp_path / "data")
    env = tier.env() | {"NEWSMON_SITES_DIR": str(sites), "NEWSMON_BROWSER": str(tmp_path / "no-chromium")}
    result = run_newsmon(["crawl", "jsnews", "--log-level", "ERROR"], env, timeout=120)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if "no browser at" in line]
    assert len(lines) == 1, result.stderr[-3000:]
    assert "rendering requested by profile jsnews" in lines[0]
    assert "apt-get install -y chromium" in lines[0] and "NEWSMON_BROWSER" in lines[0]
    assert js_server.hits["/news/"] == 0  # nothing crawled
