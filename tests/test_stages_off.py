"""A setting that switches a stage off is said: a WARNING at the crawl's start, a line under the
CLI summary, ``crawl_runs.stages_off`` and ``newsmon runs``. A crawl never looks complete while
its topics, dedupe or store were off."""

from __future__ import annotations

from scrapy.settings import Settings

from crawler import settings as defaults
from crawler.stages import STAGE_SWITCHES, stages_off
from tests.conftest import run_newsmon


def _settings(**values: object) -> Settings:
    settings = Settings()
    settings.setmodule(defaults)
    settings.setdict(values, priority="cmdline")
    return settings


def test_the_defaults_switch_nothing_off_and_each_switch_is_named() -> None:
    assert stages_off(_settings()) == {}
    for name in STAGE_SWITCHES:
        assert getattr(defaults, name) is True, f"{name} must be on by default"
        assert list(stages_off(_settings(**{name: False}))) == [name]


def test_no_alert_sink_while_topics_are_matched_is_a_switch_too() -> None:
    assert list(stages_off(_settings(ALERT_SINKS=[]))) == ["ALERT_SINKS"]
    assert list(stages_off(_settings(ALERT_SINKS=[], TOPICS_ENABLED=False))) == ["TOPICS_ENABLED"]


def test_a_crawl_with_topics_off_says_so_everywhere(embedded) -> None:
    from crawler.demo import build_site, serve

    server = serve(build_site(seed=3, n_articles=40))
    try:
        crawl = run_newsmon(["crawl", "demo", "-a", f"base_url={server.base_url}/", "-s", "TOPICS_ENABLED=False",
                             "-s", "DEDUPE_ENABLED=False"], embedded.env())
    finally:
        server.close()
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert "switched off by settings: DEDUPE_ENABLED, TOPICS_ENABLED" in crawl.stdout
    assert "stages switched off: DEDUPE_ENABLED off: duplicates and revisions are not recognised" in crawl.stderr
    store = embedded.open()
    try:
        (run,) = store.find("crawl_runs", {"site": "demo"}, limit=1)
    finally:
        store.close()
    assert run["stages_off"] == ["DEDUPE_ENABLED", "TOPICS_ENABLED"]
    listed = run_newsmon(["runs"], {**embedded.env(), "COLUMNS": "200"})
    assert "(DEDUPE_ENABLED, TOPICS_ENABLED off)" in listed.stdout, listed.stdout
