"""The demo fixture site itself: determinism, size, URL map, broken cases, News Feed, ground truth."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.request
from datetime import timedelta
from email.utils import format_datetime

import pytest

from crawler.demo import DemoServer, DemoSite, build_site, serve
from crawler.demo.model import kyiv


@pytest.fixture
def site(full_demo_site: DemoSite) -> DemoSite:
    return full_demo_site


@pytest.fixture
def server(full_demo_server: DemoServer) -> DemoServer:
    return full_demo_server


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


_raw = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, follow: bool = True, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET ``url``; HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with (urllib.request.urlopen if follow else _raw.open)(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def text_of(markup: str) -> str:
    """Visible text with tags removed, entities decoded and whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def decode(headers: dict[str, str], body: bytes) -> str:
    match = re.search(r"charset=([\w-]+)", headers.get("Content-Type", "")) or re.search(rb"charset=([\w-]+)", body[:1024])
    charset = match.group(1) if match else "utf-8"
    return body.decode(charset if isinstance(charset, str) else charset.decode())


def test_deterministic_for_a_seed() -> None:
    a, b, c = build_site(7), build_site(7), build_site(8)
    key = lambda s: [(x.path, x.title, x.authors, x.published, x.modified, x.paragraphs) for x in s.articles]  # noqa: E731
    assert key(a) == key(b)
    assert a.snippets == b.snippets and a.broken == b.broken
    assert a.pages == b.pages
    assert key(a) != key(c)


def test_size_sections_and_dst(site: DemoSite) -> None:
    assert len(site.articles) >= 150
    assert len(site.sections) >= 4
    offsets = {a.published.astimezone(kyiv()).utcoffset() for a in site.articles}
    assert offsets == {timedelta(hours=2), timedelta(hours=3)}
    assert all(a.published <= site.now and a.published.tzinfo is not None for a in site.articles)
    assert any(a.mentions_central_asia for a in site.articles)
    assert {a.style.date_style for a in site.articles} == {"full", "jsonld", "meta", "byline_dt", "byline_text"}
    assert any(len(a.authors) == 3 for a in site.articles) and any(a.byline[0].org for a in site.articles)
    assert any(a.path.startswith(("/national/", "/uncategorized/")) for a in site.articles)


def test_listed_and_sitemap_urls_answer_200(site: DemoSite, server: DemoServer) -> None:
    base = server.base_url
    status, _, body = fetch(base + "/sitemap.xml")
    assert status == 200 and b"/sitemap-posts.xml" in body
    sitemap = fetch(base + "/sitemap-posts.xml")[2].decode()
    in_sitemap = {u.removeprefix(base) for u in re.findall(r"<loc>([^<]+)</loc>", sitemap)}
    listed: set[str] = set()
    for s in site.sections:  # follow each section's rel=next chain
        path: str | None = f"/{s.slug}/"
        while path:
            status, _, raw = fetch(base + path)
            assert status == 200, path
            page = raw.decode()
            cards = re.findall(r'<h3 class="card__title"><a href="([^"]+)">', page)
            assert 1 <= len(cards) <= 10
            listed.update(cards)
            nxt = re.search(r'<a class="pagination__next" rel="next" href="([^"]+)"', page)
            path = nxt.group(1) if nxt else None
            if path:
                assert f'<link rel="next" href="{base}{path}">' in page
    truth = {a.path for a in site.articles}
    assert truth <= in_sitemap
    assert truth <= listed | {site.redirects[p] for p in listed if p in site.redirects}
    ok_kinds = {"redirect", "truncated", "cp1251", None}
    for path in sorted(listed | in_sitemap):
        if site.broken.get(path) in ok_kinds:
            assert fetch(base + path)[0] == 200, path
    feed = fetch(base + "/feed/")[2].decode()
    assert feed.count("<item>") == 30
    assert re.search(r"<pubDate>\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT</pubDate>", feed)


def test_broken_cases_answer_as_advertised(site: DemoSite, server: DemoServer) -> None:
    base = server.base_url
    by_kind = {k: p for p, k in site.broken.items()}
    assert set(by_kind) == {"404", "500", "redirect", "truncated", "cp1251", "empty", "soft404"}
    home = fetch(base + "/")[2].decode() + fetch(base + "/sitemap-posts.xml")[2].decode()
    assert all(p in home for k, p in by_kind.items() if k in ("404", "500", "empty", "soft404"))
    assert fetch(base + by_kind["404"])[0] == 404
    assert fetch(base + by_kind["500"])[0] == 500
    status, headers, _ = fetch(base + by_kind["redirect"], follow=False)
    assert status == 301 and headers["Location"] == base + site.redirects[by_kind["redirect"]]
    status, headers, body = fetch(base + by_kind["empty"])
    assert status == 200 and body == b"" and headers["Content-Length"] == "0"
    status, _, body = fetch(base + by_kind["soft404"])
    assert status == 200 and b"Page not found" in body and b"post-title" not in body
    status, headers, body = fetch(base + by_kind["cp1251"])
    assert status == 200 and headers["Content-Type"] == "text/html"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    cp = site.article(by_kind["cp1251"])
    assert cp is not None and cp.language == "uk"
    page = body.decode("cp1251")
    assert 'charset=windows-1251' in page and cp.title in page
    assert all(p in text_of(page) for p in cp.paragraphs)
    status, _, body = fetch(base + by_kind["truncated"])
    tr = site.article(by_kind["truncated"])
    assert status == 200 and tr is not None and tr.truncated
    page = body.decode()
    assert "</html>" not in page and page.rstrip().endswith(html.escape(tr.style.cut_tail, quote=True)[-20:])
    assert all(p in text_of(page) for p in tr.paragraphs)
    assert fetch(base + "/no-such-page/")[0] == 404
    status, headers, _ = fetch(base + site.articles[0].path.rstrip("/"), follow=False)
    assert status == 301 and headers["Location"] == base + site.articles[0].path


def test_date_header_is_the_site_clock(site: DemoSite, server: DemoServer) -> None:
    expected = format_datetime(site.now, usegmt=True)
    assert expected == "Tue, 26 Nov 2024 07:30:00 GMT"
    for path in ["/", site.articles[0].path, "/feed/", "/no-such-page/", next(iter(site.redirects))]:
        assert fetch(server.base_url + path, follow=False)[1]["Date"] == expected


def test_snippets_span_midnight_and_every_window_is_seen(site: DemoSite) -> None:
    snippets = site.snippets
    assert len(snippets) >= 40 and len({(s.headline, s.text) for s in snippets}) == len(snippets)
    kyiv_days = {s.published.astimezone(kyiv()).date() for s in snippets}
    assert len(kyiv_days) == 2
    assert all(a.published > b.published for a, b in zip(snippets, snippets[1:]))
    assert all(site.now - timedelta(hours=24) < s.published <= site.now for s in snippets)
    seen: set[str] = set()
    for path, page in site.pages.items():
        if page.headers.get("Content-Type", "").startswith("text/html") and page.status == 200 and page.body:
            win = site.window(path)
            assert len(win) == 10 and win[0].published - win[-1].published < timedelta(hours=24)
            seen.update(s.headline for s in win)
    assert seen == {s.headline for s in snippets}


def test_article_pages_carry_boilerplate_widget_and_truth(site: DemoSite, server: DemoServer) -> None:
    base = server.base_url
    for a in site.articles:
        status, headers, body = fetch(base + a.path)
        assert status == 200, a.path
        page = decode(headers, body)
        text = text_of(page)
        assert f'<link rel="canonical" href="{base}{a.path}">' in page
        assert f"<title>{html.escape(a.title)} | Demo Independent</title>" in page
        for para in a.paragraphs:
            assert para in text, (a.path, para)
        if a.truncated:
            continue
        for phrase in site.boilerplate_phrases:
            assert phrase in text, (a.path, phrase)
        assert page.count('class="news-feed__item"') == 10
        assert '<aside class="news-feed"><h2 class="news-feed__title">News Feed</h2>' in page
        for s in site.window(a.path):
            assert f'<time class="news-feed__time">{s.time_shown}</time>' in page
        body_html = page[page.index('<div class="c-content ">'):page.index('<div id="reading-progress-end">')]
        assert "This audio is created with AI assistance" in body_html and "indicates required" in body_html
        for para in a.paragraphs:
            for phrase in site.boilerplate_phrases:
                assert phrase not in para


def test_host_header_sets_absolute_urls_and_hits_are_counted(site: DemoSite, server: DemoServer) -> None:
    path = site.articles[1].path
    before = server.hits[path]
    _, _, body = fetch(server.base_url + path, headers={"Host": f"localhost:{server.port}"})
    assert f'<link rel="canonical" href="http://localhost:{server.port}{path}">'.encode() in body
    assert server.hits[path] == before + 1


def test_edit_and_add_article_change_what_is_served() -> None:
    site = build_site(seed=3, n_articles=40)
    with serve(site) as srv:
        target = next(a for a in site.articles if a.style.date_style == "full")
        site.edit_article(target.path, ["A brand new first paragraph.", "And a second one."])
        page = fetch(srv.base_url + target.path)[2].decode()
        assert "A brand new first paragraph." in page and target.modified == site.now
        new = site.add_article("Demo story about a new bridge", ["Engineers opened a new bridge."], section="europe")
        assert new.path in fetch(srv.base_url + "/europe/")[2].decode()
        assert fetch(srv.base_url + new.path)[0] == 200
