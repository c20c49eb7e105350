"""Scrapy's own ``parse`` and ``check`` through the real command, against sites served locally."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crawler.profiles import load_profiles
from tests.conftest import ROOT, StoreTier

KYIV_PAGE = ROOT / "tests" / "fixtures" / "extraction" / "kyivindependent_article.html"


def scrapy(args: list[str], tier: StoreTier) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=ROOT, env=tier.env(),
                          capture_output=True, text=True, timeout=180)


@pytest.fixture
def kyiv_fixture_site() -> Iterator[str]:
    """The saved kyivindependent article at the path of the profile's [check] article."""
    path = "/" + load_profiles()["kyivindependent"].check["article"].split("/", 3)[3]
    body = KYIV_PAGE.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == path
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body if found else b"not found")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def demo_site(full_demo_site):
    return full_demo_site  # the contracts of the demo profile name pages of the full site


@pytest.fixture
def demo_server(full_demo_server):
    return full_demo_server


def test_parse_an_article_url_with_the_default_callback(embedded, demo_site, demo_server) -> None:
    article = demo_site.articles[0]
    url = f"{demo_server.base_url}{article.path}"
    for extra in ([], ["-c", "parse_article"]):
        result = scrapy(["parse", url, "--spider", "demo", "--nolog", *extra], embedded)
        assert result.returncode == 0, result.stderr[-3000:]
        assert f"'title': {article.title!r}" in result.stdout, extra
        assert "'published': datetime.datetime(" in result.stdout
        assert "Traceback" not in result.stderr
    assert not embedded.data_dir.exists()  # looking at a page records nothing


def test_parse_a_listing_url_gives_its_article_requests(embedded, demo_site, demo_server) -> None:
    result = scrapy(["parse", f"{demo_server.base_url}/news/", "--spider", "demo"], embedded)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Deprecation" not in result.stderr and "Traceback" not in result.stderr
    requests = result.stdout.split("# Requests")[1]
    listed = [a for a in demo_site.articles if f"{demo_server.base_url}{a.path}" in requests]
    assert len(listed) >= 5
    assert f"{demo_server.base_url}/news/page/2/" in requests
    assert "'headline':" in result.stdout  # the page's News Feed snippets are items


def test_check_runs_the_demo_contracts(embedded, demo_server) -> None:
    listed = scrapy(["check", "-l"], embedded)
    assert "demo\n  * parse_article\n  * parse_listing" in listed.stdout
    result = scrapy(["check", "demo", "-a", f"base_url={demo_server.base_url}/"], embedded)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "Ran 2 contracts" in result.stderr and result.stderr.rstrip().endswith("OK")
    assert not embedded.data_dir.exists()


def test_check_fails_when_the_article_url_is_no_article(embedded, demo_server, tmp_path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    profile = (ROOT / "crawler" / "sites" / "demo.toml").read_text(encoding="utf-8")
    article = profile.split('article = "')[1].split('"')[0]
    (sites / "demo.toml").write_text(profile.replace(article, "/news/"), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "scrapy", "check", "demo", "-a",
                             f"base_url={demo_server.base_url}/"], cwd=ROOT,
                            env=embedded.env() | {"NEWSMON_SITES_DIR": str(sites)},
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 1
    assert "FAIL: [demo] parse_article (@article post-hook)" in result.stderr
    assert "expected 1 article, got 0" in result.stderr and "Ran 2 contracts" in result.stderr


def test_check_kyivindependent_against_the_saved_page(embedded, kyiv_fixture_site) -> None:
    # kyivindependent.com itself is not reachable from the tests (no internet): its [check]
    # article is the saved copy, served at the same path, the profile re-rooted with -a base_url.
    result = scrapy(["check", "kyivindependent", "-a", f"base_url={kyiv_fixture_site}"], embedded)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "Ran 1 contract" in result.stderr and result.stderr.rstrip().endswith("OK")


def test_scrapy_crawl_of_a_broken_profile_says_why(embedded, tmp_path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "broken.toml").write_text('name = "broken"\nbase_url = \n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "broken"], cwd=ROOT,
                            env=embedded.env() | {"NEWSMON_SITES_DIR": str(sites)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "site 'broken' cannot be used: its profile is broken: " in result.stderr
    assert "broken.toml: line 2, column 12: is not valid TOML" in result.stderr
    assert "Traceback" not in result.stderr


def test_parse_routes_feeds_and_sitemaps(embedded, demo_site, demo_server) -> None:
    base = demo_server.base_url
    feed = scrapy(["parse", f"{base}/feed/", "--spider", "demo", "--nolog"], embedded)
    assert feed.returncode == 0, feed.stderr[-3000:]
    assert f"{base}{demo_site.articles[0].path}" in feed.stdout.split("# Requests")[1]
    sitemap = scrapy(["parse", f"{base}/sitemap.xml", "--spider", "demo", "--nolog"], embedded)
    assert sitemap.returncode == 0, sitemap.stderr[-3000:]
    assert f"{base}/sitemap" in sitemap.stdout.split("# Requests")[1]  # the index's child sitemaps
