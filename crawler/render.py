"""JavaScript rendering in headless Chromium (scrapy-playwright), only for requests a profile marks.

A profile opts in with ``render`` (``crawler/profiles.py``: ``RenderRule``). Only then does the
spider loader route the site's http/https requests through ``RenderDownloadHandler``, a
``ScrapyPlaywrightDownloadHandler`` that:

* sends requests without ``meta["playwright"]`` over plain HTTP (scrapy-playwright's own fallback
  to Scrapy's HTTP/1.1 handler) and counts them as ``newsmon/render/plain``;
* starts Playwright and the browser lazily, on the first rendered request (``scrapy list`` and
  plain crawls never start either), from the machine's Chromium (``RENDER_BROWSER`` / env
  ``NEWSMON_BROWSER``, default ``/usr/bin/chromium``);
* blocks images, media, fonts and known third-party trackers (``RENDER_BLOCK_RESOURCES``,
  ``RENDER_BLOCK_HOSTS``), bounds open pages per context (``RENDER_MAX_PAGES``) and replaces the
  browser context every ``RENDER_CONTEXT_PAGES`` pages so a long crawl's memory stays flat;
* never hands a page to a callback (no ``playwright_include_page``): scrapy-playwright closes the
  page after taking its HTML and on every error path, so no page can be left open.

Page actions (wait for a selector, click "Show More" up to N times, scroll to the bottom N times)
are ``PageMethod`` callables built by ``render_meta``; each returns what it did, and the spider
counts that. Stats: ``newsmon/render/pages[/KIND]``, ``newsmon/render/seconds``,
``newsmon/render/max_seconds``, ``newsmon/render/failed[/ERROR]``, ``newsmon/render/aborted[/WHY]``,
``newsmon/render/plain``, ``newsmon/render/contexts_recycled``, ``newsmon/render/browser_launched``.

``check_browser(settings)`` returns a one-line problem when no usable browser is configured (the
CLI and the spider call it before crawling); ``render_problem(profile, settings)`` adds the
profile's name.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from dataclasses import dataclass
from time import monotonic
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from crawler.errors import ConfigError
from crawler.incremental import KIND_META

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.settings import BaseSettings

    from crawler.profiles import RenderActions, SiteProfile

__all__ = [
    "DEFAULT_BROWSER",
    "RENDER_META",
    "RenderConfig",
    "RenderDownloadHandler",
    "check_browser",
    "render_meta",
    "render_problem",
]

logger = logging.getLogger(__name__)

DEFAULT_BROWSER = "/usr/bin/chromium"
BROWSER_ENV = "NEWSMON_BROWSER"
RENDER_META = "newsmon_render"  # Request.meta: True on requests newsmon sends through the browser
FALLBACK_META = "newsmon_render_fallback"  # Request.meta: the auto-mode trigger that re-requested it
# Chromium as root needs --no-sandbox; the rest stop background connections (updates, sync,
# safe browsing) that a closed network refuses many at a time.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--disable-dev-shm-usage",
)
DEFAULT_BLOCK_HOSTS = (
    "google-analytics.com", "googletagmanager.com", "googlesyndication.com", "doubleclick.net",
    "googleadservices.com", "facebook.net", "connect.facebook.com", "scorecardresearch.com",
    "hotjar.com", "chartbeat.com", "chartbeat.net", "quantserve.com", "segment.io", "segment.com",
    "mixpanel.com", "nr-data.net", "newrelic.com", "taboola.com", "outbrain.com", "criteo.com",
    "criteo.net", "amazon-adsystem.com", "adnxs.com", "pubmatic.com", "rubiconproject.com",
    "yandex.ru", "mc.yandex.ru", "top-fwz1.mail.ru", "tiktok.com", "clarity.ms", "bat.bing.com",
)


def _browser_path(settings: BaseSettings) -> str:
    """The configured browser executable (env NEWSMON_BROWSER wins over RENDER_BROWSER)."""
    value = os.environ.get(BROWSER_ENV) or settings.get("RENDER_BROWSER") or DEFAULT_BROWSER
    value = str(value)
    if os.sep not in value:  # a bare name such as "chromium": look it up on PATH
        return shutil.which(value) or value
    return os.path.expanduser(value)


def check_browser(settings: BaseSettings) -> str | None:
    """A one-line problem if rendering cannot work on this machine, else None."""
    path = _browser_path(settings)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return (f"no browser at {path} (install chromium: apt-get install -y chromium, "
                f"or set {BROWSER_ENV})")
    try:
        RenderConfig.from_settings(settings)
    except ConfigError as exc:
        return str(exc)
    return None


def render_problem(profile: SiteProfile, settings: BaseSettings) -> str | None:
    """``check_browser`` for a profile: None when it does not render or the browser is there."""
    if not profile.render.enabled:
        return None
    problem = check_browser(settings)
    return f"rendering requested by profile {profile.name} but {problem}" if problem else None


@dataclass(frozen=True)
class RenderConfig:
    """The RENDER_* settings, read once and checked against the PLAYWRIGHT_* ones they drive."""

    browser: str = DEFAULT_BROWSER
    max_pages: int = 4
    context_pages: int = 100
    timeout: float = 20.0
    block_resources: frozenset[str] = frozenset({"image", "media", "font"})
    block_hosts: tuple[str, ...] = DEFAULT_BLOCK_HOSTS

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RenderConfig:
        max_pages = settings.getint("RENDER_MAX_PAGES", 4)
        context_pages = settings.getint("RENDER_CONTEXT_PAGES", 100)
        timeout = settings.getfloat("RENDER_TIMEOUT", 20.0)
        if max_pages < 1:
            raise ConfigError(f"RENDER_MAX_PAGES={max_pages}: must be at least 1")
        if context_pages < 0:
            raise ConfigError(f"RENDER_CONTEXT_PAGES={context_pages}: must be >= 0 (0 = never replace)")
        if timeout <= 0:
            raise ConfigError(f"RENDER_TIMEOUT={timeout}: must be > 0 seconds")
        pw_pages = settings.getint("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT", 0)
        if pw_pages and pw_pages != max_pages:
            raise ConfigError(
                f"PLAYWRIGHT_MAX_PAGES_PER_CONTEXT={pw_pages} conflicts with RENDER_MAX_PAGES="
                f"{max_pages}; set only RENDER_MAX_PAGES"
            )
        browser = _browser_path(settings)
        launch = settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS") or {}
        if launch.get("executable_path") and os.path.realpath(launch["executable_path"]) != os.path.realpath(browser):
            raise ConfigError(
                f"PLAYWRIGHT_LAUNCH_OPTIONS executable_path={launch['executable_path']!r} conflicts "
                f"with the browser {browser!r}; set only RENDER_BROWSER or {BROWSER_ENV}"
            )
        if settings.get("PLAYWRIGHT_ABORT_REQUEST"):
            raise ConfigError("PLAYWRIGHT_ABORT_REQUEST is set by newsmon; use RENDER_BLOCK_RESOURCES "
                              "and RENDER_BLOCK_HOSTS instead")
        resources = settings.getlist("RENDER_BLOCK_RESOURCES", ["image", "media", "font"])
        hosts = settings.getlist("RENDER_BLOCK_HOSTS") if settings.get("RENDER_BLOCK_HOSTS") is not None \
            else list(DEFAULT_BLOCK_HOSTS)
        return cls(browser, max_pages, context_pages, timeout,
                   frozenset(r.strip().lower() for r in resources if r.strip()),
                   tuple(h.strip().lower().lstrip(".") for h in hosts if h.strip()))

    def launch_options(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """PLAYWRIGHT_LAUNCH_OPTIONS: the machine's Chromium, headless, with CHROMIUM_ARGS added."""
        options = dict(extra or {})
        options["executable_path"] = self.browser
        options.setdefault("headless", True)
        options["args"] = list(dict.fromkeys([*options.get("args", []), *CHROMIUM_ARGS]))
        return options

    def blocked(self, resource_type: str, url: str) -> str | None:
        """Why a browser sub-request is aborted (resource type or tracker host), or None."""
        if resource_type in self.block_resources:
            return resource_type
        host = (urlsplit(url).hostname or "").lower()
        if host and any(host == h or host.endswith("." + h) for h in self.block_hosts):
            return "tracker"
        return None


# --- page actions (PageMethod callables; each returns what it did, read back by the spider) -----

async def wait_for(page: Any, selector: str, timeout_ms: float) -> bool:
    """Wait until ``selector`` is in the DOM; False (not an error) when it never appears."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    try:
        await page.wait_for_selector(selector, state="attached", timeout=timeout_ms)
    except PlaywrightTimeout:
        return False
    return True


_GREW = "([n, h]) => document.querySelectorAll('a[href]').length > n || document.body.scrollHeight > h"
_SIZE = "() => [document.querySelectorAll('a[href]').length, document.body.scrollHeight]"


async def click_more(page: Any, selector: str, times: int, timeout_ms: float) -> int:
    """Click a "Show More" button up to ``times`` times while it is there and each click loads more."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    clicks = 0
    for _ in range(times):
        button = page.locator(selector).first
        if not await button.count() or not await button.is_visible():
            break
        size = await page.evaluate(_SIZE)
        try:
            await button.click(timeout=timeout_ms)
            await page.wait_for_function(_GREW, arg=size, timeout=timeout_ms)
        except PlaywrightTimeout:
            break
        clicks += 1
    return clicks


async def scroll_bottom(page: Any, times: int, timeout_ms: float) -> int:
    """Scroll to the bottom up to ``times`` times while the page keeps growing (infinite scroll)."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    scrolls = 0
    for _ in range(times):
        size = await page.evaluate(_SIZE)
        await page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        try:
            await page.wait_for_function(_GREW, arg=size, timeout=timeout_ms)
        except PlaywrightTimeout:
            break
        scrolls += 1
    return scrolls


def render_meta(actions: RenderActions, default_timeout: float) -> dict[str, Any]:
    """Request.meta that renders a page and runs ``actions`` on it (timeouts per step)."""
    from scrapy_playwright.page import PageMethod

    timeout_ms = 1000 * (actions.timeout or default_timeout)
    methods = []
    if actions.wait_for:
        methods.append(PageMethod(wait_for, actions.wait_for, timeout_ms))
    if actions.click and actions.click_times:
        methods.append(PageMethod(click_more, actions.click, actions.click_times, timeout_ms))
    if actions.scroll_times:
        methods.append(PageMethod(scroll_bottom, actions.scroll_times, timeout_ms))
    return {
        "playwright": True,
        RENDER_META: True,
        "playwright_page_goto_kwargs": {"wait_until": "load", "timeout": timeout_ms},
        "playwright_page_methods": methods,
    }


def page_action_results(meta: dict[str, Any]) -> dict[str, int]:
    """What a rendered page's actions did: {"clicks": n, "scrolls": n, "wait_missed": n}."""
    done = {"clicks": 0, "scrolls": 0, "wait_missed": 0}
    for method in meta.get("playwright_page_methods") or ():
        if method.method is click_more:
            done["clicks"] += method.result or 0
        elif method.method is scroll_bottom:
            done["scrolls"] += method.result or 0
        elif method.method is wait_for and method.result is False:
            done["wait_missed"] += 1
    return done


# --- the download handler ------------------------------------------------------------------------

class RenderDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler with a lazy launch, the machine's Chromium, blocking and stats."""

    lazy = True  # built on the first http(s) request; the browser only on the first rendered one

    def __init__(self, crawler: Crawler) -> None:
        self.render_config = RenderConfig.from_settings(crawler.settings)
        super().__init__(crawler)
        # scrapy-playwright starts Playwright when the engine starts; newsmon starts it (and the
        # browser) on the first rendered request instead, so plain pages never pay for it.
        crawler.signals.disconnect(self._maybe_launch_in_thread, signals.engine_started)
        self.config.launch_options = self.render_config.launch_options(self.config.launch_options)
        self.config.max_pages_per_context = self.render_config.max_pages
        self.config.navigation_timeout_ms = 1000 * self.render_config.timeout
        self.abort_request = self._abort
        self._started = False
        self._start_lock = asyncio.Lock()
        self._start_error: str | None = None
        self._generation = 0  # browser contexts are named newsmon-<generation>
        self._context_rendered: dict[str, int] = {}
        self._context_open: dict[str, int] = {}

    async def download_request(self, request: Request) -> Response:  # type: ignore[override]
        if not request.meta.get("playwright"):
            self.stats.inc_value("newsmon/render/plain")
            return await super().download_request(request)
        await self._ensure_started()
        context = request.meta.setdefault("playwright_context", self._context_name())
        await self._retire_idle()
        self._context_open[context] = self._context_open.get(context, 0) + 1
        self._context_rendered[context] = self._context_rendered.get(context, 0) + 1
        started = monotonic()
        try:
            response = await super().download_request(request)
        except Exception as exc:
            self.stats.inc_value("newsmon/render/failed")
            self.stats.inc_value(f"newsmon/render/failed/{type(exc).__name__}")
            logger.warning("Rendering failed: %s: %s", request.url, _short(exc))
            raise
        finally:
            self._context_open[context] -= 1
            await self._retire_idle()
        seconds = monotonic() - started
        self.stats.inc_value("newsmon/render/pages")
        self.stats.inc_value(f"newsmon/render/pages/{request.meta.get(KIND_META) or 'other'}")
        self.stats.inc_value("newsmon/render/seconds", round(seconds, 3))
        self.stats.max_value("newsmon/render/max_seconds", round(seconds, 3))
        return response

    async def _ensure_started(self) -> None:
        """Start Playwright and the browser once, on the first rendered request."""
        if self._started:
            return
        async with self._start_lock:
            if self._start_error:
                raise IgnoreRequest(self._start_error)
            if self._started:
                return
            try:
                await self._maybe_future_from_coro(self._launch())
                await self._maybe_launch_browser()
            except Exception as exc:
                self._start_error = f"cannot start the browser {self.render_config.browser}: {_short(exc)}"
                self.stats.inc_value("newsmon/render/failed")
                self.stats.inc_value("newsmon/render/failed/browser_launch")
                logger.error("%s", self._start_error)
                raise IgnoreRequest(self._start_error) from exc
            self._started = True
            self.stats.set_value("newsmon/render/browser_launched", 1)

    def _context_name(self) -> str:
        """The context new pages open in; a fresh one after RENDER_CONTEXT_PAGES pages."""
        name = f"newsmon-{self._generation}"
        limit = self.render_config.context_pages
        if limit and self._context_rendered.get(name, 0) >= limit:
            self._generation += 1
            name = f"newsmon-{self._generation}"
        return name

    async def _retire_idle(self) -> None:
        """Close replaced contexts whose last page is done (their memory goes with them)."""
        current = f"newsmon-{self._generation}"
        for name in [n for n, open_ in self._context_open.items() if not open_ and n != current]:
            del self._context_open[name]
            self._context_rendered.pop(name, None)
            wrapper = self.context_wrappers.get(name)
            if wrapper is not None:
                await wrapper.context.close()
                self.stats.inc_value("newsmon/render/contexts_recycled")

    async def _abort(self, request: Any) -> bool:
        """PLAYWRIGHT_ABORT_REQUEST: block heavy resource types and tracker hosts."""
        why = self.render_config.blocked(request.resource_type, request.url)
        if why:
            self.stats.inc_value("newsmon/render/aborted")
            self.stats.inc_value(f"newsmon/render/aborted/{why}")
        return why is not None


def _short(exc: BaseException) -> str:
    """The first line of a Playwright error (they carry a multi-line call log)."""
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
