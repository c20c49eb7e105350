"""Ground-truth records of the demo site: pages, articles, News Feed snippets."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

__all__ = [
    "NOW", "SITE_NAME", "ArticleStyle", "Author", "DemoArticle", "DemoSnippet", "Page",
    "Section", "kyiv",
]


@functools.lru_cache(maxsize=1)
def kyiv() -> ZoneInfo:
    """The site's time zone, Europe/Kyiv (loaded on first use, not at import)."""
    return ZoneInfo("Europe/Kyiv")


#: The fixed site clock: 09:30 in Kyiv on Nov. 26, 2024; every response's ``Date`` header.
NOW = datetime(2024, 11, 26, 7, 30, tzinfo=timezone.utc)
SITE_NAME = "Demo Independent"


@dataclass
class Page:
    """One HTTP response: status, headers (without ``Date``) and body bytes."""

    status: int
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        """Body decoded with the charset of its Content-Type header or its meta tag (utf-8 default)."""
        ctype = self.headers.get("Content-Type", "")
        charset = ctype.split("charset=")[1] if "charset=" in ctype else None
        if charset is None and b"charset=windows-1251" in self.body[:2048]:
            charset = "cp1251"
        return self.body.decode(charset or "utf-8")


@dataclass(frozen=True)
class Author:
    """A byline name; ``slug`` is the ``/author/SLUG/`` page, ``org`` marks a desk byline."""

    name: str
    slug: str
    role: str = ""
    org: bool = False


@dataclass(frozen=True)
class Section:
    """A top-level section with its own paginated listing at ``/SLUG/``."""

    slug: str
    name: str


@dataclass
class ArticleStyle:
    """How one article is marked up: which date sources, author forms and quirks it carries."""

    date_style: str = "full"  # full | jsonld | meta | byline_dt | byline_text
    published_fmt: str = "kyiv"  # kyiv | z | z_ms | kyiv_ms
    meta_fmt: str = "z_ms"
    ld_type: str = "NewsArticle"
    ld_author: str = "list"  # list | person | string | graph | org
    role_suffix: bool = False
    keywords_list: bool = False
    breadcrumbs: bool = False
    list_span: tuple[int, int] | None = None  # paragraphs [start, end) rendered as <li>
    links: dict[int, tuple[str, str]] = field(default_factory=dict)  # para -> (phrase, href)
    emphasis: dict[int, str] = field(default_factory=dict)  # para -> phrase in <em>
    cta_after: int = 2  # membership appeal inside c-content after this paragraph
    truncate_at: int | None = None  # paragraphs[:truncate_at] are whole; then cut_tail, then EOF
    cut_tail: str = ""  # first half of the paragraph the document is cut inside
    encoding: str = "utf-8"
    legacy_prefix: str = ""  # "national" | "uncategorized" for old URLs
    post_id: str = ""


@dataclass
class DemoArticle:
    """Ground truth for one article a correct crawler must store."""

    path: str
    title: str
    authors: list[str]
    published: datetime  # aware, UTC
    modified: datetime | None  # aware, UTC, None when the page carries no modified date
    section: str  # display name, e.g. "Ukraine"
    tags: list[str]  # display names
    paragraphs: list[str]  # exact body texts; list items are their own paragraphs
    image_url: str | None
    image_caption: str | None
    image_credit: str | None
    language: str = "en"
    truncated: bool = False
    summary: str = ""
    mentions_central_asia: bool = False
    section_slug: str = ""
    tag_slugs: list[str] = field(default_factory=list)
    byline: list[Author] = field(default_factory=list, repr=False)
    style: ArticleStyle = field(default_factory=ArticleStyle, repr=False)

    @property
    def body(self) -> str:
        """Paragraphs joined the way ``Article.body`` stores them (one blank line between)."""
        return "\n\n".join(self.paragraphs)

    def url(self, base_url: str) -> str:
        """Canonical absolute URL on a server at ``base_url``."""
        return base_url.rstrip("/") + self.path


@dataclass
class DemoSnippet:
    """Ground truth for one News Feed item."""

    headline: str
    text: str
    published: datetime  # aware, UTC
    time_shown: str  # "5:29 PM", Kyiv local time
    path: str | None  # linked article path, or None for an unlinked item
