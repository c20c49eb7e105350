"""``DemoSite``: the generated site's ground truth, its URL map and its page renderer."""

from __future__ import annotations

import math
import re
import threading
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from . import templates as t
from .model import NOW, ArticleStyle, Author, DemoArticle, DemoSnippet, Page, Section
from .prose import CENTRAL_ASIA_WORDS, first_sentence, slugify

__all__ = ["DemoSite", "DEFAULT_BASE_URL", "PAGE_SIZE", "WINDOW"]

DEFAULT_BASE_URL = "http://demo-independent.test"
PAGE_SIZE = 10  # cards per listing page
WINDOW = 10  # News Feed items shown per page
HTML = "text/html; charset=utf-8"
BROKEN_TITLES = {
    "404": "Kherson ferry service resumes", "500": "Kharkiv metro: live updates",
    "empty": "Live updates: November 25", "soft404": "Ukraine war latest: archive",
}
BOILERPLATE = [
    "Three years of reporting, funded by our readers", "Become a member", "Gift membership",
    "Skip to content", "Edit post", "This audio is created with AI assistance",
    "Three years. Millions of readers.", "Help us get 1,000 new members!",
    "Millions read the Demo Independent", "air of business as usual", "Enter your email to subscribe",
    "Please, enter correct email address", "indicates required", "Successfuly subscribed",
    "covers breaking news around the clock", "visa masterCard americanExpress", "Editors' Picks",
    "News Feed", "Show More", "MORE NEWS", "min read",
]


class DemoSite:
    """The whole site: ground truth for tests plus ``render(path, base_url)`` for the server."""

    now: datetime = NOW  # the site clock; every response's Date header

    def __init__(self, *, articles: list[DemoArticle], snippets: list[DemoSnippet],
                 sections: Sequence[Section], tags: dict[str, str], authors: dict[str, Author],
                 broken: dict[str, str], redirects: dict[str, str], teaser_title: str) -> None:
        self.articles = sorted(articles, key=lambda a: a.published, reverse=True)
        self.snippets = snippets
        self.sections = list(sections)
        self.tags = dict(tags)
        self.authors = dict(authors)
        self.broken = dict(broken)
        self.redirects = dict(redirects)
        self.teaser_title = teaser_title
        self.boilerplate_phrases = [*BOILERPLATE, teaser_title]
        self._lock = threading.RLock()
        self._routes: dict[str, tuple[str, object]] | None = None
        self._cache: dict[tuple[str, str], Page | None] = {}

    # -- ground truth helpers -------------------------------------------------------------------

    def article(self, path: str) -> DemoArticle | None:
        """The article served at ``path``, if any."""
        return next((a for a in self.articles if a.path == path), None)

    def teaser_path(self) -> str:
        """Path of the story every page's related-story teaser links to."""
        return f"/{slugify(self.teaser_title)}/"

    def editors_picks(self) -> list[DemoArticle]:
        """Three stories linked from every page's "Editors' Picks"."""
        return [self.articles[i] for i in (3, 7, 11) if i < len(self.articles)]

    def window(self, path: str) -> list[DemoSnippet]:
        """The 10 consecutive News Feed items shown on ``path`` (offset from a CRC of the path)."""
        offset = {"/": 0, "/news/": len(self.snippets) - WINDOW}.get(path)
        if offset is None:
            offset = zlib.crc32(path.encode()) % (len(self.snippets) - WINDOW + 1)
        return self.snippets[offset:offset + WINDOW]

    def listing_urls(self) -> list[str]:
        """Every paginated listing page: sections, tags and authors."""
        return [p for p, (kind, _) in self.routes().items() if kind == "listing"]

    # -- routing and rendering ------------------------------------------------------------------

    def routes(self) -> dict[str, tuple[str, object]]:
        """Path -> (kind, argument) for every page the site serves with a body or a redirect."""
        with self._lock:
            if self._routes is None:
                self._routes = self._build_routes()
            return self._routes

    def _build_routes(self) -> dict[str, tuple[str, object]]:
        r: dict[str, tuple[str, object]] = {
            "/": ("home", None), "/robots.txt": ("robots", None), "/feed/": ("feed", None),
            "/sitemap.xml": ("sitemap_index", None), "/sitemap-posts.xml": ("sitemap_posts", None),
            "/sitemap-tags.xml": ("sitemap_tags", None), "/sitemap-authors.xml": ("sitemap_authors", None),
            "/news-archive/": ("news_archive", None), "/news-archive/rss/": ("snippets_rss", None),
        }
        for a in self.articles:
            r[a.path] = ("article", a)
        hrefs = {target: old for old, target in self.redirects.items()}
        groups: list[tuple[str, str, list[DemoArticle], dict[str, str]]] = []
        for s in self.sections:
            groups.append((f"/{s.slug}/", s.name, [a for a in self.articles if a.section_slug == s.slug], hrefs))
        for slug, name in self.tags.items():
            groups.append((f"/tag/{slug}/", name, [a for a in self.articles if slug in a.tag_slugs], {}))
        for slug, au in self.authors.items():
            groups.append((f"/author/{slug}/", au.name, [a for a in self.articles if au in a.byline], {}))
        for root, name, items, links in groups:
            if not items:
                continue
            pages = math.ceil(len(items) / PAGE_SIZE)
            for n in range(1, pages + 1):
                path = root if n == 1 else f"{root}page/{n}/"
                r[path] = ("listing", (name, root, items[(n - 1) * PAGE_SIZE:n * PAGE_SIZE], n, pages, links))
        for path, kind in self.broken.items():
            if kind == "redirect":
                r[path] = ("redirect", self.redirects[path])
            elif kind not in ("truncated", "cp1251"):
                r[path] = (kind, None)
        return r

    def paths(self) -> list[str]:
        """Every path the site answers (articles, listings, feeds, sitemaps, broken cases)."""
        return list(self.routes())

    @property
    def pages(self) -> dict[str, Page]:
        """Every path rendered for ``DEFAULT_BASE_URL``."""
        return {p: page for p in self.paths() if (page := self.render(p, DEFAULT_BASE_URL)) is not None}

    def render(self, path: str, base_url: str = DEFAULT_BASE_URL) -> Page | None:
        """The response for ``path`` (query ignored) on a server at ``base_url``; None if unknown."""
        path = path.split("?", 1)[0].split("#", 1)[0] or "/"
        base = base_url.rstrip("/")
        key = (path, base)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = self._render(path, base)
            return self._cache[key]

    def not_found(self, path: str, base_url: str = DEFAULT_BASE_URL) -> Page:
        """The 404 response for an unknown path."""
        return Page(404, {"Content-Type": HTML}, t.not_found_page(self, base_url.rstrip("/"), path).encode())

    def _render(self, path: str, base: str) -> Page | None:
        routes = self.routes()
        if path not in routes:
            first = re.sub(r"page/1/$", "", path)
            if first != path and first in routes:
                return Page(301, {"Location": base + first, "Content-Type": HTML}, b"")
            if not path.endswith("/") and path + "/" in routes:
                return Page(301, {"Location": base + path + "/", "Content-Type": HTML}, b"")
            return None
        kind, arg = routes[path]
        xml = "application/xml; charset=utf-8"
        if kind == "article":
            assert isinstance(arg, DemoArticle)
            html = t.article_page(self, arg, base)
            if arg.style.encoding == "cp1251":
                return Page(200, {"Content-Type": "text/html"}, html.encode("cp1251"))
            return Page(200, {"Content-Type": HTML}, html.encode())
        if kind == "listing":
            name, root, items, n, pages, links = arg  # type: ignore[misc]
            return Page(200, {"Content-Type": HTML},
                        t.listing_page(self, base, path, name, root, items, n, pages, links).encode())
        if kind == "home":
            extra = {p: BROKEN_TITLES[k] for p, k in self.broken.items() if k in BROKEN_TITLES}
            return Page(200, {"Content-Type": HTML}, t.home_page(self, base, extra).encode())
        if kind == "redirect":
            return Page(301, {"Location": base + str(arg), "Content-Type": HTML}, b"")
        if kind == "404":
            return self.not_found(path, base)
        if kind == "500":
            body = b"<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>"
            return Page(500, {"Content-Type": HTML}, body)
        if kind == "empty":
            return Page(200, {"Content-Type": HTML}, b"")
        if kind == "soft404":
            return Page(200, {"Content-Type": HTML}, t.not_found_page(self, base, path).encode())
        if kind == "robots":
            text = f"User-agent: *\nSitemap: {base}/sitemap.xml\nDisallow: /ghost/\nDisallow: /p/\nDisallow: /email/\n"
            return Page(200, {"Content-Type": "text/plain; charset=utf-8"}, text.encode())
        if kind == "feed":
            return Page(200, {"Content-Type": "application/rss+xml; charset=utf-8"}, t.rss_feed(self, base).encode())
        if kind == "snippets_rss":
            return Page(200, {"Content-Type": "application/rss+xml; charset=utf-8"}, t.snippets_rss(self, base).encode())
        if kind == "news_archive":
            return Page(200, {"Content-Type": HTML}, t.news_archive_page(self, base).encode())
        if kind == "sitemap_index":
            names = ["sitemap-posts.xml", "sitemap-tags.xml", "sitemap-authors.xml"]
            return Page(200, {"Content-Type": xml}, t.sitemap_index(base, names, self.now).encode())
        return Page(200, {"Content-Type": xml}, t.sitemap(base, self._sitemap_entries(kind)).encode())

    def _sitemap_entries(self, kind: str) -> list[tuple[str, datetime]]:
        if kind == "sitemap_posts":
            entries = [(a.path, a.modified or a.published) for a in self.articles]
            stale = self.now - timedelta(days=1, hours=3)
            return entries + [(p, stale) for p, k in self.broken.items() if k in BROKEN_TITLES]
        roots = ([f"/tag/{s}/" for s in self.tags] if kind == "sitemap_tags"
                 else [f"/author/{s}/" for s in self.authors])
        return [(p, self.now) for p in roots if p in self.routes()]

    # -- mutations for re-crawl tests -----------------------------------------------------------

    def _invalidate(self) -> None:
        with self._lock:
            self.articles.sort(key=lambda a: a.published, reverse=True)
            self._routes = None
            self._cache.clear()

    def edit_article(self, path: str, new_paragraphs: Iterable[str], modified: datetime | None = None) -> DemoArticle:
        """Replace an article's body; its modified date becomes ``modified`` (default: the site clock)."""
        a = self.article(path)
        if a is None:
            raise KeyError(f"no article at {path!r}")
        a.paragraphs = list(new_paragraphs)
        a.style = replace(a.style, list_span=None, links={}, emphasis={}, truncate_at=None, cut_tail="",
                          cta_after=min(a.style.cta_after, len(a.paragraphs) - 1))
        a.truncated = False
        a.summary = first_sentence(a.paragraphs[0])
        a.mentions_central_asia = any(w in " ".join(a.paragraphs) for w in CENTRAL_ASIA_WORDS)
        if a.style.date_style in ("full", "jsonld", "meta"):
            a.modified = modified or self.now
        self._invalidate()
        return a

    def add_article(self, title: str, paragraphs: Iterable[str], *, section: str = "news",
                    authors: Sequence[str] = ("The Demo Independent news desk",),
                    published: datetime | None = None, tags: Sequence[str] = ()) -> DemoArticle:
        """Publish a new article (JSON-LD + meta dates, list-of-Person authors) at ``/SLUG/``."""
        sec = next(s for s in self.sections if s.slug == section)
        byline = []
        for name in authors:
            au = next((x for x in self.authors.values() if x.name == name), None)
            if au is None:
                au = Author(name, slugify(name))
                self.authors[au.slug] = au
            byline.append(au)
        tag_slugs = [slugify(n) for n in tags]
        for slug, name in zip(tag_slugs, tags):
            self.tags.setdefault(slug, name)
        paras = list(paragraphs)
        org = all(a.org for a in byline)
        style = ArticleStyle(published_fmt="z_ms", meta_fmt="z_ms", ld_author="org" if org else "list",
                             cta_after=min(1, len(paras) - 1), post_id=f"{zlib.crc32(title.encode()):024x}")
        a = DemoArticle(
            path=f"/{slugify(title)}/", title=title, authors=[b.name for b in byline],
            published=published or self.now - timedelta(minutes=1), modified=None, section=sec.name,
            tags=[self.tags[s] for s in tag_slugs], paragraphs=paras, image_url=None, image_caption=None,
            image_credit=None, summary=first_sentence(paras[0]),
            mentions_central_asia=any(w in " ".join(paras) for w in CENTRAL_ASIA_WORDS),
            section_slug=sec.slug, tag_slugs=tag_slugs, byline=byline, style=style)
        if self.article(a.path) is not None:
            raise ValueError(f"an article already lives at {a.path!r}")
        self.articles.append(a)
        self._invalidate()
        return a
