"""A small news site whose News Feed, listing and some bodies exist only after its scripts run.

Separate from the seeded demo site (``build_site`` is untouched). ``build_js_site()`` returns the
ground truth; ``serve_js(site)`` serves it on 127.0.0.1 (port 0 = free port) and counts hits per
path. URL map:

    /news/           listing: an empty <ul> filled by script, a "Show More" button that fetches
                     /api/more.json and appends more links; a News Feed filled from /api/feed.json;
                     an image and a Google Analytics tag (both blocked by the renderer)
    /archive/        plain listing: static links to the static articles and /a/js-story/
    /a/<slug>/       plain article pages (static body, a static News Feed)
    /a/js-story/     an article whose title is static and whose body is written by script
    /bench/          plain listing of the benchmark pages
    /bench/<n>/      benchmark pages: body and News Feed written by script (``bench_pages``)
    /api/feed.json   News Feed items (only a browser asks for it)
    /api/more.json   the links behind "Show More" (only a browser asks for it)
"""

from __future__ import annotations

import collections
import html
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

__all__ = ["JsSite", "JsSiteServer", "build_js_site", "serve_js", "js_profile_toml"]

_WORDS = ("grid operators restored power to several districts after overnight strikes on "
          "substations while engineers worked through the morning to reroute supply and the "
          "regional administration said repairs would continue for days").split()


def _paragraphs(seed: int, count: int = 4) -> list[str]:
    out = []
    for p in range(count):
        start = (seed * 7 + p * 5) % len(_WORDS)
        words = [_WORDS[(start + i) % len(_WORDS)] for i in range(38)]
        out.append(f"Story {seed} paragraph {p + 1}: " + " ".join(words).capitalize() + ".")
    return out


@dataclass(frozen=True)
class JsSite:
    """Ground truth of the fixture: which links and snippets need a browser to be seen."""

    static_articles: tuple[str, ...]  # /a/<slug>/ linked from /archive/ (plain HTML)
    script_links: tuple[str, ...]  # on /news/ after its script runs
    more_links: tuple[str, ...]  # on /news/ only after "Show More" is clicked
    js_snippets: tuple[tuple[str, str, str], ...]  # (time, headline, text) built by script on /news/
    static_snippets: tuple[tuple[str, str, str], ...]  # in the static HTML of article pages
    js_body_article: str = "/a/js-story/"
    bench_pages: int = 0
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def script_only_articles(self) -> tuple[str, ...]:
        return self.script_links + self.more_links


def build_js_site(articles: int = 6, script_links: int = 4, more_links: int = 3,
                  bench_pages: int = 0) -> JsSite:
    static = tuple(f"/a/static-{i}/" for i in range(articles))
    script = tuple(f"/a/scripted-{i}/" for i in range(script_links))
    more = tuple(f"/a/more-{i}/" for i in range(more_links))
    js_snips = tuple((f"{9 + i:02d}:{10 * i % 60:02d}", f"Scripted headline {i}.",
                      f"Only a browser sees feed item {i}.") for i in range(3))
    static_snips = (("08:00", "Static headline one.", "This item is in the HTML."),
                    ("08:30", "Static headline two.", "So is this one."))
    titles = {p: f"Story {p.strip('/').split('/')[-1]}" for p in (*static, *script, *more)}
    titles["/a/js-story/"] = "Story js-story"
    return JsSite(static, script, more, js_snips, static_snips, bench_pages=bench_pages, titles=titles)


def js_profile_toml(name: str, base_url: str, render: str) -> str:
    """A profile for the fixture; ``render`` is the TOML of the render key or table."""
    return f'''name = "{name}"
base_url = "{base_url}"
allowed_domains = ["127.0.0.1"]
timezone = "Europe/Kyiv"
language = "en"
{render if not render.lstrip().startswith("[") else ""}

[start]
sections = {{ news = "/news/", archive = "/archive/" }}

[articles]
allow = ['^/a/[a-z0-9-]+/$', '^/bench/\\d+/$']
min_body_chars = 200

[pagination]
max_pages = 1

[selectors]
title = "h1"
body = "div.story"

[news_feed]
item = "aside.news-feed .news-feed__item"
time = ".news-feed__time::text"
headline = ".news-feed__headline"
text = ".news-feed__text"
link = "a.news-feed__link::attr(href)"

[politeness]
concurrency = 8
{render if render.lstrip().startswith("[") else ""}
'''


# --- pages ---------------------------------------------------------------------------------------

def _feed_html(snippets: tuple[tuple[str, str, str], ...]) -> str:
    items = "".join(
        f'<div class="news-feed__item"><time class="news-feed__time">{t}</time>'
        f'<p class="news-feed__headline"><strong>{html.escape(h)}</strong></p>'
        f'<p class="news-feed__text">{html.escape(x)}</p></div>' for t, h, x in snippets)
    return f'<aside class="news-feed"><h2>News Feed</h2>{items}</aside>'


_FEED_SCRIPT = """
fetch('/api/feed.json').then(r => r.json()).then(items => {
  const feed = document.querySelector('aside.news-feed');
  for (const it of items) {
    const div = document.createElement('div');
    div.className = 'news-feed__item';
    div.innerHTML = '<time class="news-feed__time"></time><p class="news-feed__headline"><strong></strong></p><p class="news-feed__text"></p>';
    div.querySelector('time').textContent = it[0];
    div.querySelector('strong').textContent = it[1];
    div.querySelector('.news-feed__text').textContent = it[2];
    feed.appendChild(div);
  }
});
"""


def _page(title: str, main: str, *, script: str = "", head: str = "") -> bytes:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
            f'</title>{head}</head><body><header><nav><a href="/">Home</a> <a href="/news/">News</a> '
            f'<a href="/archive/">Archive</a></nav></header><main>{main}</main>'
            f'<footer><p>JS Fixture News</p></footer>'
            f'{f"<script>{script}</script>" if script else ""}</body></html>').encode()


def _article(site: JsSite, path: str, seed: int, *, scripted_body: bool = False,
             scripted_feed: bool = False) -> bytes:
    paragraphs = _paragraphs(seed)
    title = site.titles.get(path, f"Story {seed}")
    story = "" if scripted_body else "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    script = ""
    if scripted_body:
        script += ("const s = document.querySelector('div.story');"
                   f"for (const t of {json.dumps(paragraphs)}) {{ const p = document.createElement('p');"
                   " p.textContent = t; s.appendChild(p); }")
    feed = '<aside class="news-feed"><h2>News Feed</h2></aside>' if scripted_feed \
        else _feed_html(site.static_snippets)
    if scripted_feed:
        script += _FEED_SCRIPT
    main = (f'<article><h1>{html.escape(title)}</h1><p class="byline">By Fixture Desk</p>'
            f'<time datetime="2024-05-0{1 + seed % 9}T10:00:00+03:00">May {1 + seed % 9}, 2024</time>'
            f'<div class="story">{story}</div></article>{feed}')
    return _page(title, main, script=script)


def _news(site: JsSite) -> bytes:
    first = [[p, site.titles[p]] for p in site.script_links]
    script = f"""
const list = document.getElementById('list');
function add(links) {{
  for (const [href, title] of links) {{
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = href; a.textContent = title; li.appendChild(a); list.appendChild(li);
  }}
}}
add({json.dumps(first)});
document.querySelector('button.show-more').addEventListener('click', ev => {{
  fetch('/api/more.json').then(r => r.json()).then(links => {{ add(links); ev.target.remove(); }});
}});
{_FEED_SCRIPT}
"""
    main = ('<h1>News</h1><img src="/img/hero.jpg" alt="">'
            '<ul id="list"></ul><button class="show-more">Show More</button>'
            '<aside class="news-feed"><h2>News Feed</h2></aside>')
    head = '<script async src="https://www.google-analytics.com/analytics.js"></script>'
    return _page("News", main, script=script, head=head)


def _archive(site: JsSite) -> bytes:
    links = "".join(f'<li><a href="{p}">{html.escape(site.titles[p])}</a></li>'
                    for p in (*site.static_articles, site.js_body_article))
    return _page("Archive", f"<h1>Archive</h1><ul>{links}</ul>{_feed_html(site.static_snippets)}")


def render_path(site: JsSite, path: str) -> tuple[int, str, bytes]:
    """(status, content type, body) for ``path``."""
    if path == "/news/":
        return 200, "text/html; charset=utf-8", _news(site)
    if path == "/archive/":
        return 200, "text/html; charset=utf-8", _archive(site)
    if path == "/api/feed.json":
        return 200, "application/json", json.dumps(site.js_snippets).encode()
    if path == "/api/more.json":
        return 200, "application/json", json.dumps([[p, site.titles[p]] for p in site.more_links]).encode()
    if path == site.js_body_article:
        return 200, "text/html; charset=utf-8", _article(site, path, 99, scripted_body=True)
    for i, p in enumerate((*site.static_articles, *site.script_links, *site.more_links)):
        if path == p:
            return 200, "text/html; charset=utf-8", _article(site, path, i)
    if path == "/bench/":
        links = "".join(f'<li><a href="/bench/{n}/">Bench story {n}</a></li>' for n in range(site.bench_pages))
        return 200, "text/html; charset=utf-8", _page("Bench", f"<h1>Bench</h1><ul>{links}</ul>")
    if path.startswith("/bench/") and path.endswith("/"):
        number = path[len("/bench/"):-1]
        if number.isdigit() and int(number) < site.bench_pages:
            return 200, "text/html; charset=utf-8", _article(
                site, path, int(number), scripted_body=True, scripted_feed=True)
    if path == "/robots.txt":
        return 200, "text/plain", b"User-agent: *\nAllow: /\n"
    return 404, "text/html; charset=utf-8", _page("Not found", "<h1>Not found</h1>")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class JsSiteServer:
    """The fixture on a local port: ``base_url``, per-path ``hits``, ``close()``."""

    def __init__(self, site: JsSite, host: str = "127.0.0.1", port: int = 0) -> None:
        self.site = site
        self.hits: collections.Counter[str] = collections.Counter()
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:
                path = urlsplit(self.path).path or "/"
                with lock:
                    server.hits[path] += 1
                status, ctype, body = render_path(server.site, path)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = _Server((host, port), Handler)
        self.host, self.port = self._httpd.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        name=f"js-fixture:{self.port}")
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> JsSiteServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def serve_js(site: JsSite, host: str = "127.0.0.1", port: int = 0) -> JsSiteServer:
    """Start serving the fixture (port 0 picks a free port)."""
    return JsSiteServer(site, host, port)
