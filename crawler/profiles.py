"""Site profiles: one TOML file per site, loaded into a frozen, validated ``SiteProfile``.

A profile is all newsmon needs to crawl a site: where to start (sections, feeds, sitemaps), which
links are articles, how listings paginate, optional CSS selector overrides, the News Feed widget's
selectors, politeness and the re-crawl interval. Every problem is reported as a ``ProfileError``
naming the file, the key and what is wrong, so a user never sees a traceback for a typo.

Profiles are read from the shipped ``crawler/sites/`` directory and, when the environment variable
``NEWSMON_SITES_DIR`` (or the setting of the same name) names a directory, from there too; a user
profile with the name of a shipped one replaces it.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crawler.errors import ProfileError
from crawler.tomltable import TomlTable

__all__ = [
    "SHIPPED_SITES_DIR",
    "ProfileSet",
    "RenderActions",
    "RenderRule",
    "SiteProfile",
    "load_profile",
    "load_profiles",
    "profile_dirs",
    "read_profiles",
]

SHIPPED_SITES_DIR = Path(__file__).with_name("sites")

T = TypeVar("T")

_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
SELECTOR_KEYS = frozenset(
    {"title", "body", "body_exclude", "authors", "published", "modified", "section", "tags",
     "image", "image_caption"}
)
NEWS_FEED_KEYS = frozenset({"item", "time", "headline", "text", "link"})
RENDER_MODES = ("never", "always", "auto")
RENDER_PAGE_TYPES = frozenset({"listing", "article"})  # feeds and sitemaps are XML: never rendered
RENDER_TRIGGERS = frozenset({"body", "links", "news_feed"})


@dataclass(frozen=True)
class Pagination:
    """How a section listing continues: a next-link selector and/or a URL template."""

    next_selector: str | None = None  # CSS selector of the next-page link's href
    url_template: str | None = None  # e.g. "{section}page/{page}/"; {section} is the listing URL
    max_pages: int = 5  # listing pages per section, the first included


@dataclass(frozen=True)
class RenderActions:
    """What the browser does on a rendered page before its HTML is taken (see crawler/render.py)."""

    wait_for: str | None = None  # CSS selector waited for (a miss is counted, not fatal)
    click: str | None = None  # CSS selector of a "Show More"/"Load more" button
    click_times: int = 0  # clicks at most (stops early when the button is gone or nothing loads)
    scroll_times: int = 0  # scrolls to the bottom at most (stops when the page stops growing)
    timeout: float | None = None  # seconds per step (navigation, wait, each click/scroll); None = RENDER_TIMEOUT


@dataclass(frozen=True)
class RenderRule:
    """Which requests of a site go through headless Chromium, and what happens on those pages.

    ``mode``: ``never`` (default), ``always`` (selected requests are rendered) or ``auto`` (selected
    requests are fetched over plain HTTP first and re-requested through the browser only when the
    static page has no article body, no listing links or an empty News Feed). Selection: page
    types in ``pages`` and/or URL paths matching ``urls``; neither given selects every listing and
    article request.
    """

    mode: str = "never"
    pages: frozenset[str] = frozenset()
    urls: tuple[re.Pattern[str], ...] = ()
    actions: RenderActions = field(default_factory=RenderActions)
    by_page: Mapping[str, RenderActions] = field(default_factory=dict)  # page type -> actions
    fallback_on: frozenset[str] = RENDER_TRIGGERS

    @property
    def enabled(self) -> bool:
        return self.mode != "never"

    def selects(self, kind: str | None, url: str) -> bool:
        """Whether a request of page type ``kind`` for ``url`` is one this rule covers."""
        if not self.enabled or kind not in RENDER_PAGE_TYPES:
            return False
        if not self.pages and not self.urls:
            return True
        path = urlsplit(url).path or "/"
        return kind in self.pages or any(p.search(path) for p in self.urls)

    def actions_for(self, kind: str | None) -> RenderActions:
        return self.by_page.get(kind or "", self.actions)


@dataclass(frozen=True)
class SiteProfile:
    """Everything newsmon knows about one site."""

    name: str
    path: str  # the file it came from, for messages
    base_url: str
    allowed_domains: tuple[str, ...]
    sections: tuple[tuple[str, str], ...] = ()  # (section name, absolute listing URL)
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    article_allow: tuple[re.Pattern[str], ...] = ()
    article_deny: tuple[re.Pattern[str], ...] = ()
    pagination: Pagination = field(default_factory=Pagination)
    selectors: Mapping[str, str] = field(default_factory=dict)
    news_feed: Mapping[str, str] = field(default_factory=dict)
    timezone: str = "UTC"
    language: str | None = None
    locale: str | None = None  # e.g. "en-GB": day/month order of numeric dates
    download_delay: float = 0.0
    concurrency: int = 8
    recrawl_minutes: float = 15.0
    min_body_chars: int = 200
    render: RenderRule = field(default_factory=RenderRule)
    check: Mapping[str, str] = field(default_factory=dict)  # page type -> URL `scrapy check` fetches
    download_maxsize: int | None = None  # bytes per response for this site; None = DOWNLOAD_MAXSIZE
    health: Mapping[str, Any] = field(default_factory=dict)  # [health]: HEALTH_* thresholds for this site

    def with_base_url(self, base_url: str) -> SiteProfile:
        """The same profile with every URL re-rooted on ``base_url`` (the demo site's port)."""
        old = self.base_url

        def move(url: str) -> str:
            return base_url.rstrip("/") + url[len(old.rstrip("/")):] if url.startswith(old) else url

        host = urlsplit(base_url).hostname or ""
        return replace(
            self,
            base_url=base_url,
            allowed_domains=tuple(dict.fromkeys((*self.allowed_domains, host))),
            sections=tuple((name, move(url)) for name, url in self.sections),
            feeds=tuple(move(u) for u in self.feeds),
            sitemaps=tuple(move(u) for u in self.sitemaps),
            check={kind: move(url) for kind, url in self.check.items()},
        )

    def is_article_url(self, url: str) -> bool:
        """Whether a link on this site looks like an article by the allow/deny patterns."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return False
        host = (parts.hostname or "").lower()
        if not any(host == d or host.endswith("." + d) for d in self.allowed_domains):
            return False
        path = parts.path or "/"
        if any(p.search(path) for p in self.article_deny):
            return False
        return not self.article_allow or any(p.search(path) for p in self.article_allow)


class _Reader(TomlTable):
    """A profile table: errors are ProfileErrors."""

    error_class = ProfileError


def _patterns(reader: _Reader, key: str) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for i, text in enumerate(reader.strings(key)):
        try:
            compiled.append(re.compile(text))
        except re.error as exc:
            raise reader.fail(f"{key}[{i}]", f"is not a valid regular expression: {exc}") from exc
    return tuple(compiled)


def _absolute(reader: _Reader, key: str, base_url: str) -> list[str]:
    urls = []
    for i, url in enumerate(reader.strings(key)):
        full = urljoin(base_url, url)
        if urlsplit(full).scheme not in ("http", "https"):
            raise reader.fail(f"{key}[{i}]", f"must be an http(s) URL or a path, got {url!r}")
        urls.append(full)
    return urls


def _selectors(reader: _Reader, key: str, allowed: frozenset[str]) -> dict[str, str]:
    table = reader.get(key, dict, {})
    out = {}
    for name, value in table.items():
        if name not in allowed:
            raise reader.fail(f"{key}.{name}", f"unknown selector; known: {', '.join(sorted(allowed))}")
        if not isinstance(value, str) or not value.strip():
            raise reader.fail(f"{key}.{name}", "must be a non-empty CSS selector string")
        _check_css(reader, f"{key}.{name}", value)
        out[name] = value
    return out


def _check_css(reader: _Reader, key: str, css: str) -> None:
    from parsel import Selector

    try:
        Selector(text="<html></html>").css(css)
    except Exception as exc:  # cssselect raises several unrelated types; all mean "bad selector"
        raise reader.fail(key, f"is not a valid CSS selector: {exc}") from exc


def _render_actions(reader: _Reader, inherit: RenderActions) -> RenderActions:
    wait_for = reader.get("wait_for", str, inherit.wait_for)
    click = reader.get("click", str, inherit.click)
    for key, css in (("wait_for", wait_for), ("click", click)):
        if css is not None:
            if not css.strip():
                raise reader.fail(key, "must be a non-empty CSS selector string")
            _check_css(reader, key, css)
    click_times = reader.get("click_times", int, inherit.click_times or (3 if click else 0))
    scroll_times = reader.get("scroll_times", int, inherit.scroll_times)
    for key, value in (("click_times", click_times), ("scroll_times", scroll_times)):
        if not 0 <= value <= 100:
            raise reader.fail(key, f"must be between 0 and 100, got {value}")
    if click_times and not click:
        raise reader.fail("click_times", "needs a 'click' selector (the Show More button)")
    timeout = reader.get("timeout", (int, float), inherit.timeout)
    if timeout is not None and not 0 < timeout <= 600:
        raise reader.fail("timeout", f"must be > 0 and at most 600 seconds, got {timeout}")
    return RenderActions(wait_for, click, click_times, scroll_times,
                         float(timeout) if timeout is not None else None)


def _render_rule(top: _Reader) -> RenderRule:
    """``render = "auto"`` (a mode) or a ``[render]`` table with mode, selection and page actions."""
    value = top.get("render", (str, dict), "never")
    if isinstance(value, str):
        value = {"mode": value}
    reader = _Reader(top.path, value, "render.")
    mode = reader.get("mode", str, "always")
    if mode not in RENDER_MODES:
        raise reader.fail("mode", f"must be one of {', '.join(RENDER_MODES)}, got {mode!r}")
    pages = reader.strings("pages")
    for i, kind in enumerate(pages):
        if kind not in RENDER_PAGE_TYPES:
            raise reader.fail(f"pages[{i}]", f"must be one of {', '.join(sorted(RENDER_PAGE_TYPES))}, got {kind!r}")
    urls = _patterns(reader, "urls")
    fallback_on = reader.strings("fallback_on") if "fallback_on" in value else sorted(RENDER_TRIGGERS)
    for i, trigger in enumerate(fallback_on):
        if trigger not in RENDER_TRIGGERS:
            raise reader.fail(f"fallback_on[{i}]", f"must be one of {', '.join(sorted(RENDER_TRIGGERS))}, got {trigger!r}")
    if "fallback_on" in value and mode != "auto":
        raise reader.fail("fallback_on", "only applies to mode = \"auto\"")
    actions = _render_actions(reader, RenderActions())
    by_page = {}
    for kind in sorted(RENDER_PAGE_TYPES):
        if kind in value:
            sub = reader.table(kind)
            by_page[kind] = _render_actions(sub, actions)
            sub.check_unknown()
    reader.check_unknown()
    return RenderRule(mode, frozenset(pages), urls, actions, by_page, frozenset(fallback_on))


class _Problems:
    """Collects the problems of one file, so a user fixes them all in one go, not one per run."""

    def __init__(self) -> None:
        self.errors: list[ProfileError] = []

    def attempt(self, step: Callable[[], T], fallback: Any) -> T:
        """``step()``, or ``fallback`` (a stand-in, never used in a profile) with its error kept."""
        try:
            return step()
        except ProfileError as exc:
            self.errors.append(exc)
            return fallback  # type: ignore[no-any-return]

    def add(self, error: Exception) -> None:
        assert isinstance(error, ProfileError)
        self.errors.append(error)

    def raise_any(self) -> None:
        if self.errors:
            raise ProfileError.combine(self.errors)


def _name(top: _Reader) -> str:
    name = top.get("name", str, required=True)
    if not _NAME_RE.match(name):
        raise top.fail("name", "must be lowercase letters, digits, '-' or '_' (spider name)")
    return name


def _base_url(top: _Reader) -> str:
    base_url = top.get("base_url", str, required=True)
    if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).hostname:
        raise top.fail("base_url", f"must be an absolute http(s) URL, got {base_url!r}")
    return base_url if base_url.endswith("/") else base_url + "/"


def _timezone(top: _Reader) -> str:
    tz = top.get("timezone", str, "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise top.fail("timezone", f"unknown time zone {tz!r} (use an IANA name such as Europe/Kyiv)") from exc
    return tz


def _start(top: _Reader, base_url: str, problems: _Problems) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    start = top.table("start")
    sections: list[tuple[str, str]] = []
    before = len(problems.errors)

    def read_sections() -> None:
        for sec_name, url in start.get("sections", dict, {}).items():
            if not isinstance(url, str):
                raise start.fail(f"sections.{sec_name}", "must be a URL or path string")
            sections.append((sec_name, urljoin(base_url, url)))

    problems.attempt(read_sections, None)
    feeds = problems.attempt(lambda: _absolute(start, "feeds", base_url), [])
    sitemaps = problems.attempt(lambda: _absolute(start, "sitemaps", base_url), [])
    problems.attempt(start.check_unknown, None)
    if not (sections or feeds or sitemaps) and len(problems.errors) == before:
        problems.add(top.fail("start", "needs at least one of sections, feeds or sitemaps"))
    return sections, feeds, sitemaps


def _articles(top: _Reader) -> tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...], int]:
    articles = top.table("articles")
    allow, deny = _patterns(articles, "allow"), _patterns(articles, "deny")
    min_body = articles.get("min_body_chars", int, 200)
    articles.check_unknown()
    return allow, deny, min_body


def _pagination(top: _Reader) -> Pagination:
    pag = top.table("pagination")
    next_sel = pag.get("next_selector", str)
    if next_sel:
        _check_css(pag, "next_selector", next_sel)
    template = pag.get("url_template", str)
    if template and "{page}" not in template:
        raise pag.fail("url_template", "must contain {page}")
    max_pages = pag.get("max_pages", int, 5)
    if max_pages < 1:
        raise pag.fail("max_pages", "must be at least 1")
    pag.check_unknown()
    return Pagination(next_sel, template, max_pages)


def _politeness(top: _Reader) -> tuple[float, int]:
    polite = top.table("politeness")
    delay = float(polite.get("download_delay", (int, float), 0.0))
    concurrency = polite.get("concurrency", int, 8)
    if delay < 0:
        raise polite.fail("download_delay", "must be >= 0")
    if concurrency < 1:
        raise polite.fail("concurrency", "must be >= 1")
    polite.check_unknown()
    return delay, concurrency


def _interval(top: _Reader) -> float:
    interval = float(top.get("recrawl_minutes", (int, float), 15))
    if interval <= 0:
        raise top.fail("recrawl_minutes", "must be > 0")
    return interval


def _news_feed(top: _Reader) -> dict[str, str]:
    news_feed = _selectors(top, "news_feed", NEWS_FEED_KEYS)
    if news_feed and not {"item", "time"} <= news_feed.keys():
        raise top.fail("news_feed", "needs at least 'item' and 'time' selectors")
    return news_feed


CHECK_PAGE_TYPES = frozenset({"article", "listing"})


def _check_pages(top: _Reader, base_url: str) -> dict[str, str]:
    """``[check]``: an article and/or listing URL (or path) that ``scrapy check SITE`` fetches."""
    check = top.table("check")
    urls = {}
    for kind in sorted(CHECK_PAGE_TYPES):
        url = check.get(kind, str)
        if url is not None:
            full = urljoin(base_url, url)
            if urlsplit(full).scheme not in ("http", "https"):
                raise check.fail(kind, f"must be an http(s) URL or a path, got {url!r}")
            urls[kind] = full
    check.check_unknown()
    return urls


def _download_maxsize(top: _Reader) -> int | None:
    maxsize = top.get("download_maxsize", int)
    if maxsize is not None and maxsize < 1024:
        raise top.fail("download_maxsize", f"must be at least 1024 bytes, got {maxsize}")
    return maxsize


def _health(top: _Reader) -> dict[str, Any]:
    """``[health]``: per-site crawl health thresholds, each checked by its HEALTH_* setting's rule."""
    from crawler.checks import RULES
    from crawler.health import PROFILE_KEYS
    from crawler.validators import Invalid

    health = top.table("health")
    values = {}
    for key in PROFILE_KEYS:
        if key in health.data:
            try:
                values[key] = RULES["HEALTH_" + key.upper()].validate(health.get(key, (int, float, str, list, dict)))
            except Invalid as exc:
                raise health.fail(key, str(exc)) from None
    health.check_unknown()
    return values


def _locale(top: _Reader) -> str | None:
    locale = top.get("locale", str)
    if locale and not re.fullmatch(r"[a-z]{2,3}([-_][A-Za-z]{2})?", locale):
        raise top.fail("locale", f"must look like 'en-GB' or 'uk', got {locale!r}")
    return locale


def parse_profile(path: str, data: Mapping[str, Any]) -> SiteProfile:
    """Validate one decoded TOML document into a SiteProfile.

    Each part is checked even when an earlier one failed, and one ``ProfileError`` carries every
    problem found (``file: key: problem; key: problem``).
    """
    top = _Reader(path, data)
    problems = _Problems()
    name = problems.attempt(lambda: _name(top), "")
    base_url = problems.attempt(lambda: _base_url(top), "http://invalid.invalid/")
    domains = problems.attempt(lambda: top.strings("allowed_domains"), []) or [urlsplit(base_url).hostname or ""]
    tz = problems.attempt(lambda: _timezone(top), "UTC")
    sections, feeds, sitemaps = _start(top, base_url, problems)
    allow, deny, min_body = problems.attempt(lambda: _articles(top), ((), (), 200))
    pagination = problems.attempt(lambda: _pagination(top), Pagination())
    delay, concurrency = problems.attempt(lambda: _politeness(top), (0.0, 8))
    interval = problems.attempt(lambda: _interval(top), 15.0)
    selectors = problems.attempt(lambda: _selectors(top, "selectors", SELECTOR_KEYS), {})
    news_feed = problems.attempt(lambda: _news_feed(top), {})
    language = problems.attempt(lambda: top.get("language", str), None)
    locale = problems.attempt(lambda: _locale(top), None)
    problems.attempt(lambda: top.get("description", str), None)
    render = problems.attempt(lambda: _render_rule(top), RenderRule())
    check = problems.attempt(lambda: _check_pages(top, base_url), {})
    maxsize = problems.attempt(lambda: _download_maxsize(top), None)
    health = problems.attempt(lambda: _health(top), {})
    for key in top.unknown_keys():
        problems.add(top.fail(key, "unknown key (typo?)"))
    problems.raise_any()
    return SiteProfile(
        name=name, path=path, base_url=base_url, allowed_domains=tuple(domains),
        sections=tuple(sections), feeds=tuple(feeds), sitemaps=tuple(sitemaps),
        article_allow=allow, article_deny=deny, pagination=pagination,
        selectors=selectors, news_feed=news_feed, timezone=tz, language=language, locale=locale,
        download_delay=delay, concurrency=concurrency, recrawl_minutes=interval,
        min_body_chars=min_body, render=render, check=check, download_maxsize=maxsize,
        health=health,
    )


_TOML_POSITION = re.compile(r"^(?P<msg>.*?)\s*\(at (?P<where>line \d+, column \d+|end of document)\)$")


def _toml_error(path: Path, exc: tomllib.TOMLDecodeError) -> ProfileError:
    """``file: line 3, column 8: is not valid TOML: Invalid value`` (not the bare ``-``)."""
    match = _TOML_POSITION.match(str(exc))
    if not match:
        return ProfileError(str(path), "-", f"is not valid TOML: {exc}")
    return ProfileError(str(path), match["where"], f"is not valid TOML: {match['msg']}")


def load_profile(path: Path) -> SiteProfile:
    """Read and validate one profile file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(str(path), "-", f"cannot be read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ProfileError(str(path), f"byte {exc.start}", "is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(path, exc) from exc
    try:
        profile = parse_profile(str(path), data)
    except ProfileError as exc:
        name = data.get("name")
        if isinstance(name, str) and name != path.stem and _NAME_RE.match(name):
            raise ProfileError.combine([exc, _name_mismatch(path)]) from None
        raise
    if profile.name != path.stem:
        raise _name_mismatch(path)
    return profile


def _name_mismatch(path: Path) -> ProfileError:
    return ProfileError(str(path), "name", f"must match the file name ({path.stem!r})")


def profile_dirs(extra: str | os.PathLike[str] | None = None) -> list[Path]:
    """The shipped profile directory, then the user's (setting or NEWSMON_SITES_DIR)."""
    dirs = [SHIPPED_SITES_DIR]
    user = extra or os.environ.get("NEWSMON_SITES_DIR")
    if user:
        user_dir = Path(user).expanduser()
        if not user_dir.is_dir():
            raise ProfileError(str(user_dir), "NEWSMON_SITES_DIR", "is not a directory")
        dirs.append(user_dir)
    return dirs


@dataclass(frozen=True)
class ProfileSet:
    """The profiles that load, by name, and the files that do not, by name, with their error."""

    profiles: dict[str, SiteProfile]
    broken: dict[str, ProfileError]


def read_profiles(dirs: Iterable[Path] | None = None) -> ProfileSet:
    """Every profile file of ``dirs``: a broken one takes only itself out.

    Later directories override earlier ones, also when the later file is broken (a user's broken
    ``demo.toml`` is reported, not silently replaced by the shipped one). A broken file is known
    by its file name.
    """
    profiles: dict[str, SiteProfile] = {}
    broken: dict[str, ProfileError] = {}
    for directory in dirs if dirs is not None else profile_dirs():
        for path in sorted(directory.glob("*.toml")):
            try:
                profile = load_profile(path)
            except ProfileError as exc:
                profiles.pop(path.stem, None)
                broken[path.stem] = exc
                continue
            broken.pop(profile.name, None)
            profiles[profile.name] = profile
    return ProfileSet(profiles, broken)


def load_profiles(dirs: Iterable[Path] | None = None) -> dict[str, SiteProfile]:
    """All profiles by name; later directories override earlier ones. The first broken file
    raises its ``ProfileError`` (``read_profiles`` reports broken files instead)."""
    found = read_profiles(dirs)
    if found.broken:
        raise next(iter(found.broken.values()))
    return found.profiles
