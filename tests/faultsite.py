"""A local news site that misbehaves on purpose: one case per path, for ``tests/test_faults.py``.

``FaultSite()`` serves on 127.0.0.1, port 0, in a daemon thread. Every article case lives at
``/a/<case>/`` and is linked from the ``/news/`` listing, the (malformed) feed and the (malformed)
sitemap; ``hits`` records the monotonic time of every request per path, so a test can measure
how long the crawler waited between a 429 and its retry. ``PROFILE`` is the site profile (TOML)
that crawls it.
"""

from __future__ import annotations

import collections
import gzip
import os
import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

__all__ = ["CASES", "PROFILE", "FailingWebhook", "FaultSite"]

PROFILE = """\
name = "faults"
base_url = "{base}/"
allowed_domains = ["127.0.0.1"]
timezone = "Europe/Kyiv"
language = "en"

[start]
sections = {{ news = "/news/", links = "/links/", bad-links = "/bad-links/" }}
feeds = ["/feed.xml"]
sitemaps = ["/sitemap.xml"]

[articles]
allow = ['^/a/[a-z0-9-]+/$']
min_body_chars = 200

[pagination]
max_pages = 1

[news_feed]
item = "aside.news-feed li"
time = "time::text"
headline = "h3"
text = "p"

[politeness]
download_delay = 0
concurrency = 16
"""

_PARA = ("Officials in Kyiv said on Tuesday that repairs to the power grid would continue through "
         "the winter, as engineers restored supply to districts hit by the latest strikes. ")
_WORDS = ["grid", "substation", "crews", "winter", "repairs", "transformer", "district", "supply", "outage", "engineers", "ministry", "region", "strike", "battery", "generator", "cable", "heating", "water", "village", "mayor", "budget", "tender"]


def _body(seed: str, paragraphs: int = 6) -> str:
    """Distinct prose per case, so that no two fault articles are near-duplicates of each other."""
    rng = random.Random(seed)
    return "".join("<p>" + " ".join(rng.choice(_WORDS) for _ in range(40)).capitalize() + ".</p>"
                   for _ in range(paragraphs))


_FEED = """<aside class="news-feed"><ul>
<li><time>10:15</time><h3><script>alert(8)</script>Hostile <b>snippet</b> headline.</h3>
<p>Snippet text with <i>markup</i> &amp; an entity.</p></li>
<li><time>09:40</time><h3>Plain snippet headline.</h3><p>Plain snippet text.</p></li>
</ul></aside>"""


def _article(title: str, body: str | None = None, head: str = "", *, charset: str = "utf-8",
             date: str = "2024-03-05T10:00:00+02:00", extra: str = "") -> str:
    body = _body(title) if body is None else body
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="{charset}">
<title>{title} | Fault News</title>
<meta property="article:published_time" content="{date}">{head}</head>
<body><main><article><h1>{title}</h1>
<div class="byline">By <span class="author">Olena Test</span></div>
<div class="content">{body}</div></article>{extra}</main>{_FEED}</body></html>"""


def _page(title: str, **kw: str) -> bytes:
    return _article(title, **kw).encode("utf-8")


def _png() -> bytes:
    rng = random.Random(1)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + bytes(rng.randrange(256) for _ in range(30000))


def _gzip_bomb(decompressed: int) -> bytes:
    # Concatenated gzip members are one valid gzip stream: 8 MiB of zeros compressed once, repeated.
    member = gzip.compress(b"\0" * (8 << 20), compresslevel=6)
    return member * (decompressed // (8 << 20))


_CP1251_TEXT = ("Київ. Енергетики відновили живлення після атаки на підстанцію, повідомили в "
                "міністерстві енергетики України. Ремонт триває вже третю добу поспіль. ")
_CP1251_TEXT_2 = ("Львів. Міська рада ухвалила програму підтримки укриттів і шкіл, а волонтери "
                  "зібрали кошти на нові генератори для лікарень області. ")
_DEEP = "<div>" * 5000 + f"<h1>Deep nesting still extracts</h1>{_body('deep')}" + "</div>" * 5000


def _cases() -> dict[str, Callable[[BaseHTTPRequestHandler, FaultSite], None]]:
    big = _page("Big page", body=_body("big") + "<p>" + "x" * (20 << 20) + "</p>")
    long_body = _page("Long body", body="".join(f"<p>{_PARA * 4} {i}</p>" for i in range(700)))
    bomb = _gzip_bomb(1 << 30)
    png = _png()
    noise = os.urandom(40000)
    markup_head = (
        '<meta property="og:title" content="&lt;script&gt;alert(2)&lt;/script&gt;&lt;b&gt;OG&lt;/b&gt; headline">'
        '<meta name="description" content="&lt;b&gt;Bold&lt;/b&gt; summary &lt;style&gt;p{}&lt;/style&gt;&amp;amp; more">'
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"headline": "<script>alert(3)</script><b>OG</b> headline", '
        '"author": {"@type": "Person", "name": "<i>Olena</i> <script>x()</script>Test"}, '
        '"description": "<p>Summary <em>in</em> markup</p>", '
        '"image": {"@type": "ImageObject", "url": "/img.jpg", "caption": "<b>Caption</b><script>c()</script>"}, '
        '"datePublished": "2024-03-05T10:00:00+02:00"}</script>'
    )
    bad_ld = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": ["a", {"b": 1}], '
              '"author": 5, "datePublished": {"x": [1, 2]}, "articleBody": null, </script>'
              '<script type="application/ld+json">[[[[[[{"@graph": 7}]]]]]]</script>'
              '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Bad JSON-LD still extracts\\ud800"}</script>')
    date_9999 = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Year 9999", '
                 '"datePublished": "9999-12-31T23:59:59-14:00", "dateModified": "0000-00-00T00:00:00"}</script>')
    wrong_charset = _article("Wrong charset", charset="utf-8",
                             body="".join(f"<p>{_CP1251_TEXT} {i}</p>" for i in range(8))).encode("cp1251")
    undeclared = _article("Undeclared charset", charset="",
                          body="".join(f"<p>{_CP1251_TEXT_2} {_CP1251_TEXT} {i}</p>" for i in range(8))).replace(
        '<meta charset="">', "").encode("cp1251")
    nul_page = _page("NUL\x00 bytes\x01 inside", body=_body("nul").replace("e", "e\x00", 20).replace("a", "a\x0b", 5))
    controls = "".join(ch + ("\x01\x02\x1b\x7f"[i % 4] if i % 60 == 0 else "")
                       for i, ch in enumerate(_article("Control characters inside")))
    links = _page("Many links", extra="<nav>" + "".join(f'<a href="/tag/t{i}/">t{i}</a>' for i in range(10000)) + "</nav>")
    huge_word = _page("A one-megabyte word", body=_body("huge-word") + "<p>" + "w" * (1 << 20) + "</p>")
    cjk = _page("基辅电网修复工作继续进行", body="".join(
        f"<p>{i}、工程师们在袭击后恢复了该地区的电力供应，官员们表示修复工作将持续整个冬天。"
        f"変電所の修理は続いており、作業員は夜通し働いている。전력망 복구 작업이 계속되고 있다。</p>"
        for i in range(12)))
    offsite_base = _page("Off-site base element", head='<base href="http://elsewhere.invalid/">',
                         extra='<a href="/a/ok/">relative link, resolved off-site</a>')
    retry_pages = {"rate-limited": (429, "2"), "unavailable": (503, "1"), "unavailable-long": (503, "86400")}

    def send(status: int, body: bytes, ctype: str = "text/html; charset=utf-8",
             headers: dict[str, str] | None = None) -> Callable[[BaseHTTPRequestHandler, FaultSite], None]:
        def handler(h: BaseHTTPRequestHandler, site: FaultSite) -> None:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            try:
                h.wfile.write(body)
            except OSError:  # the crawler hung up on a body it does not want (too big): fine
                h.close_connection = True
        return handler

    def once_then_ok(name: str, status: int, retry_after: str) -> Callable[[BaseHTTPRequestHandler, FaultSite], None]:
        def handler(h: BaseHTTPRequestHandler, site: FaultSite) -> None:
            if len(site.hits[f"/a/{name}/"]) == 1 or status == 503 and retry_after == "86400":
                send(status, b"busy", "text/plain", {"Retry-After": retry_after})(h, site)
            else:
                send(200, _page(f"Recovered after {status}"))(h, site)
        return handler

    def reset(h: BaseHTTPRequestHandler, site: FaultSite) -> None:
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.close_connection = True
        h.connection.close()

    def short(h: BaseHTTPRequestHandler, site: FaultSite) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        h.wfile.write(_page("Short body")[:500])
        h.wfile.flush()
        h.close_connection = True

    def drip(h: BaseHTTPRequestHandler, site: FaultSite) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.end_headers()
        try:
            while not site.closing.is_set():
                h.wfile.write(b"<p>.")
                h.wfile.flush()
                site.closing.wait(0.2)  # the server's own pace, not a test waiting for something
        except OSError:
            pass
        h.close_connection = True

    def streamed_big(h: BaseHTTPRequestHandler, site: FaultSite) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.end_headers()  # no Content-Length: the size is known only by reading
        try:
            for i in range(0, len(big), 1 << 16):
                h.wfile.write(big[i:i + (1 << 16)])
        except OSError:
            pass
        h.close_connection = True

    cases: dict[str, Callable[[BaseHTTPRequestHandler, FaultSite], None]] = {
        "ok": send(200, _page("A normal article about Kazakhstan grid exports")),
        "big": send(200, big),
        "big-streamed": streamed_big,
        "long-body": send(200, long_body),
        "gzip-bomb": send(200, bomb, headers={"Content-Encoding": "gzip"}),
        "corrupt-gzip": send(200, b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x07" + bytes(4000), headers={"Content-Encoding": "gzip"}),
        "binary-png": send(200, png),
        "binary-random": send(200, noise),
        "deep": send(200, f"<!DOCTYPE html><html><head><title>Deep</title></head><body>{_DEEP}</body></html>".encode()),
        "bad-jsonld": send(200, _page("Bad JSON-LD still extracts", head=bad_ld)),
        "date-9999": send(200, _page("Year 9999", head=date_9999, date="9999-12-31T23:59:59-14:00")),
        "date-garbage": send(200, _page("Garbage dates", date="0000-00-00 99:99")),
        "markup": send(200, _page("Markup &lt;b&gt;title&lt;/b&gt;", head=markup_head)),
        "nul": send(200, nul_page),
        "control-chars": send(200, controls.encode("utf-8")),
        "wrong-charset": send(200, wrong_charset),
        "undeclared-charset": send(200, undeclared, ctype="text/html"),
        "empty": send(200, b""),
        "whitespace": send(200, b" \n\t " * 1000),
        "many-links": send(200, links),
        "huge-word": send(200, huge_word),
        "cjk": send(200, cjk),
        "offsite-base": send(200, offsite_base),
        "reset": reset,
        "short-body": short,
        "slow-drip": drip,
        "redirect-loop": send(302, b"", headers={"Location": "/a/redirect-loop-2/"}),
        "redirect-loop-2": send(302, b"", headers={"Location": "/a/redirect-loop/"}),
        "offsite-redirect": send(302, b"", headers={"Location": "http://elsewhere.invalid/a/x/"}),
    }
    for name, (status, after) in retry_pages.items():
        cases[name] = once_then_ok(name, status, after)
    return cases


CASES: tuple[str, ...] = ()  # filled by the first FaultSite (building the cases takes a moment)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class FaultSite:
    """The misbehaving site: ``base_url``, ``hits`` (path -> request times), ``close()``."""

    def __init__(self) -> None:
        global CASES
        self.cases = _cases()
        CASES = tuple(n for n in self.cases if n != "redirect-loop-2")
        self.hits: dict[str, list[float]] = collections.defaultdict(list)
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), self._handler())
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def _listing(self) -> bytes:
        links = "".join(f'<li><a href="/a/{n}/">{n}</a></li>' for n in CASES)
        return f"<html><head><title>News</title></head><body><ul>{links}</ul>{_FEED}</body></html>".encode()

    def _routes(self, path: str) -> tuple[int, bytes, str]:
        if path == "/news/":
            return 200, self._listing(), "text/html; charset=utf-8"
        if path == "/links/":
            links = "".join(f'<a href="/tag/t{i}/">t{i}</a>' for i in range(10000))
            return 200, f"<html><body>{links}<a href='/a/ok/'>ok</a></body></html>".encode(), "text/html"
        if path == "/bad-links/":  # one malformed URL among good ones
            return 200, b"<html><body><a href='/a/ok/'>ok</a><a href='http://[bad/'>bad</a></body></html>", "text/html"
        if path == "/feed.xml":
            items = "".join(f"<item><title>{n} & <b>co</title><link>{self.base_url}/a/{n}/</link>"
                            f"<pubDate>not a date {n}</pubDate></item>" for n in CASES[:5])
            return 200, f"<?xml version='1.0'?><rss><channel>{items}<item><link>".encode(), "application/rss+xml"
        if path == "/sitemap.xml":
            urls = "".join(f"<url><loc>{self.base_url}/a/{n}/</loc><lastmod>99999-1</lastmod></url>"
                           for n in CASES[5:10])
            return 200, f"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}<url><loc>\x00".encode(), "application/xml"
        if path == "/robots.txt":
            return 200, b"User-agent: *\nAllow: /\n", "text/plain"
        return 404, b"<html><body>Not found</body></html>", "text/html"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: each case is isolated

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                with site._lock:
                    site.hits[path].append(time.monotonic())
                name = path[3:-1] if path.startswith("/a/") and path.endswith("/") else None
                if name in site.cases:
                    site.cases[name](self, site)
                    return
                status, body, ctype = site._routes(path)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def close(self) -> None:
        self.closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class FailingWebhook:
    """A webhook endpoint that answers every POST with 500 (``posts`` counts them)."""

    def __init__(self) -> None:
        self.posts = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hook.posts += 1
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
