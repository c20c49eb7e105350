"""Rendering, without a browser: profile keys, the settings config, routing and blocking rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.settings import Settings

from crawler.errors import ConfigError, ProfileError
from crawler.profiles import load_profiles, parse_profile
from crawler.render import (
    DEFAULT_BROWSER, RenderConfig, check_browser, click_more, page_action_results, render_meta,
    render_problem, scroll_bottom, wait_for,
)
from crawler.spiderloader import spider_class_for

ROOT = Path(__file__).resolve().parents[1]
BASE = {"name": "x", "base_url": "https://example.org/", "start": {"sections": {"news": "/news/"}},
        "news_feed": {"item": ".feed li", "time": "time::text"}}


def profile(**extra):
    return parse_profile("x.toml", {**BASE, **extra})


def test_render_defaults_to_never_and_shipped_profiles_do_not_render() -> None:
    assert profile().render.mode == "never" and not profile().render.enabled
    for p in load_profiles().values():
        assert not p.render.enabled
        assert "DOWNLOAD_HANDLERS" not in spider_class_for(p).custom_settings


def test_render_string_and_table_forms() -> None:
    auto = profile(render="auto").render
    assert auto.mode == "auto" and auto.selects("listing", "https://example.org/a/")
    assert not auto.selects("feed", "https://example.org/feed/")  # XML is never rendered
    rule = profile(render={"urls": ["^/live/"], "pages": ["listing"], "wait_for": ".feed li",
                           "click": "button.more", "timeout": 5,
                           "article": {"scroll_times": 2, "click_times": 0}}).render
    assert rule.mode == "always"
    assert rule.selects("listing", "https://example.org/news/")
    assert rule.selects("article", "https://example.org/live/today/")
    assert not rule.selects("article", "https://example.org/story/")
    assert rule.actions_for("listing").click_times == 3  # default when a button is given
    article = rule.actions_for("article")
    assert (article.scroll_times, article.click_times, article.wait_for, article.timeout) == (2, 0, ".feed li", 5.0)


@pytest.mark.parametrize(("render", "message"), [
    ("sometimes", "render.mode: must be one of never, always, auto"),
    (True, "render: must be a string or a table, not a boolean"),
    ({"pages": ["sitemap"]}, "render.pages[0]: must be one of article, listing"),
    ({"urls": ["("]}, "render.urls[0]: is not a valid regular expression"),
    ({"click_times": 2}, "render.click_times: needs a 'click' selector"),
    ({"click": "button.more", "click_times": 500}, "render.click_times: must be between 0 and 100"),
    ({"wait_for": "div[["}, "render.wait_for: is not a valid CSS selector"),
    ({"timeout": 0}, "render.timeout: must be > 0"),
    ({"mode": "always", "fallback_on": ["body"]}, "render.fallback_on: only applies to mode = \"auto\""),
    ({"mode": "auto", "fallback_on": ["pictures"]}, "render.fallback_on[0]: must be one of"),
    ({"listing": {"clik": "x"}}, "render.listing.clik: unknown key"),
    ({"mdoe": "auto"}, "render.mdoe: unknown key"),
])
def test_bad_render_keys_name_file_key_and_problem(render, message) -> None:
    with pytest.raises(ProfileError) as info:
        profile(render=render)
    assert str(info.value).startswith("x.toml: ") and message in str(info.value), str(info.value)


def test_only_rendering_profiles_get_the_playwright_handler() -> None:
    handlers = spider_class_for(profile(render="auto")).custom_settings["DOWNLOAD_HANDLERS"]
    assert handlers == {"http": "crawler.render.RenderDownloadHandler",
                        "https": "crawler.render.RenderDownloadHandler"}
    assert "DOWNLOAD_HANDLERS" not in spider_class_for(profile()).custom_settings


def test_scrapy_list_does_not_import_playwright(tmp_path: Path) -> None:
    (tmp_path / "jsx.toml").write_text('name = "jsx"\nbase_url = "http://127.0.0.1:1/"\nrender = "always"\n'
                                       '[start]\nsections = { news = "/news/" }\n')
    code = ("import sys; from scrapy.settings import Settings; from crawler.spiderloader import ProfileSpiderLoader;"
            f"names = ProfileSpiderLoader(Settings({{'NEWSMON_SITES_DIR': {str(tmp_path)!r}}})).list();"
            "assert 'jsx' in names, names;"
            "assert not [m for m in sys.modules if m.startswith(('playwright', 'scrapy_playwright'))]")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_config_defaults_and_launch_options() -> None:
    config = RenderConfig.from_settings(Settings({"RENDER_BROWSER": "/opt/chrome/chrome"}))
    assert config.browser == "/opt/chrome/chrome" and config.max_pages == 4
    options = config.launch_options({"args": ["--lang=en"]})
    assert options["executable_path"] == "/opt/chrome/chrome" and options["headless"] is True
    assert options["args"][0] == "--lang=en" and "--no-sandbox" in options["args"]
    assert "--disable-background-networking" in options["args"]


def test_env_browser_wins_over_setting(monkeypatch) -> None:
    monkeypatch.setenv("NEWSMON_BROWSER", "/env/chromium")
    assert RenderConfig.from_settings(Settings({"RENDER_BROWSER": "/setting/chromium"})).browser == "/env/chromium"
    monkeypatch.delenv("NEWSMON_BROWSER")
    assert RenderConfig.from_settings(Settings()).browser == DEFAULT_BROWSER


@pytest.mark.parametrize(("settings", "message"), [
    ({"RENDER_MAX_PAGES": 0}, "RENDER_MAX_PAGES=0: must be at least 1"),
    ({"RENDER_TIMEOUT": -1}, "RENDER_TIMEOUT=-1.0: must be > 0"),
    ({"RENDER_CONTEXT_PAGES": -5}, "RENDER_CONTEXT_PAGES=-5"),
    ({"RENDER_MAX_PAGES": 4, "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 8}, "conflicts with RENDER_MAX_PAGES=4"),
    ({"PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": "/other/chrome"}}, "conflicts with the browser"),
    ({"PLAYWRIGHT_ABORT_REQUEST": "x.y"}, "PLAYWRIGHT_ABORT_REQUEST is set by newsmon"),
])
def test_conflicting_or_bad_settings_are_rejected(settings, message, monkeypatch) -> None:
    monkeypatch.delenv("NEWSMON_BROWSER", raising=False)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        RenderConfig.from_settings(Settings(settings))


def test_blocking_by_resource_type_and_tracker_host() -> None:
    config = RenderConfig.from_settings(Settings())
    assert config.blocked("image", "http://127.0.0.1/a.jpg") == "image"
    assert config.blocked("font", "http://127.0.0.1/a.woff2") == "font"
    assert config.blocked("script", "https://www.google-analytics.com/analytics.js") == "tracker"
    assert config.blocked("xhr", "https://stats.g.doubleclick.net/x") == "tracker"
    assert config.blocked("script", "http://127.0.0.1/app.js") is None
    assert config.blocked("fetch", "http://127.0.0.1/api/feed.json") is None
    assert config.blocked("document", "http://127.0.0.1/news/") is None
    custom = RenderConfig.from_settings(Settings({"RENDER_BLOCK_RESOURCES": [], "RENDER_BLOCK_HOSTS": ["cdn.example"]}))
    assert custom.blocked("image", "http://127.0.0.1/a.jpg") is None
    assert custom.blocked("script", "https://x.cdn.example/t.js") == "tracker"


def test_check_browser_names_the_path_and_the_fix(tmp_path, monkeypatch) -> None:
    missing = tmp_path / "chromium"
    monkeypatch.setenv("NEWSMON_BROWSER", str(missing))
    problem = check_browser(Settings())
    assert problem == (f"no browser at {missing} (install chromium: apt-get install -y chromium, "
                       "or set NEWSMON_BROWSER)")
    assert render_problem(profile(), Settings()) is None  # a plain profile needs no browser
    assert render_problem(profile(render="auto"), Settings()) == f"rendering requested by profile x but {problem}"
    fake = tmp_path / "chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("NEWSMON_BROWSER", str(fake))
    assert check_browser(Settings()) is None
    assert "conflicts" in (check_browser(Settings({"PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 99})) or "")


def test_render_meta_page_methods_and_their_results() -> None:
    rule = profile(render={"wait_for": ".feed li", "click": "button.more", "click_times": 2,
                           "scroll_times": 3, "timeout": 7}).render
    meta = render_meta(rule.actions_for("listing"), default_timeout=20)
    assert meta["playwright"] is True and meta["newsmon_render"] is True
    assert meta["playwright_page_goto_kwargs"] == {"wait_until": "load", "timeout": 7000}
    methods = meta["playwright_page_methods"]
    assert [(m.method, m.args) for m in methods] == [
        (wait_for, (".feed li", 7000)), (click_more, ("button.more", 2, 7000)), (scroll_bottom, (3, 7000))]
    methods[0].result, methods[1].result, methods[2].result = False, 2, 1
    assert page_action_results(meta) == {"clicks": 2, "scrolls": 1, "wait_missed": 1}
    plain = render_meta(profile(render="auto").render.actions_for("article"), default_timeout=20)
    assert plain["playwright_page_methods"] == [] and plain["playwright_page_goto_kwargs"]["timeout"] == 20000
