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


def test_a_component_left_out_of_its_dict_is_a_stage_off() -> None:
    from crawler.stages import COMPONENTS, component_in, stores_items

    defaults_on = _settings()
    for setting, path, _switch, _effect in COMPONENTS:
        assert component_in(defaults_on, setting, path), f"{path} is not in the default {setting}"
    assert stores_items(defaults_on)
    pipelines = dict(defaults.ITEM_PIPELINES)
    del pipelines["pipelines.store.StorePipeline"]
    without_store = _settings(ITEM_PIPELINES=pipelines)
    assert list(stages_off(without_store)) == ["ITEM_PIPELINES without pipelines.store.StorePipeline"]
    assert not stores_items(without_store)
    # set to None (Scrapy's way to disable a component) is leaving it out too
    identity_none = {**defaults.ITEM_PIPELINES, "pipelines.identity.IdentityPipeline": None}
    assert not stores_items(_settings(ITEM_PIPELINES=identity_none))
    # a switch already off is said once, by its own name
    assert list(stages_off(_settings(ITEM_PIPELINES=pipelines, STORE_ENABLED=False))) == ["STORE_ENABLED"]


class NotAStore:
    """An unrelated class in the store stage's place."""


def test_a_subclass_of_a_stage_stands_for_it() -> None:
    from crawler.stages import stores_items
    from pipelines.store import StorePipeline

    class MyStore(StorePipeline):
        pass

    pipelines = dict(defaults.ITEM_PIPELINES)
    del pipelines["pipelines.store.StorePipeline"]
    assert stores_items(_settings(ITEM_PIPELINES={**pipelines, MyStore: 900}))
    assert not stores_items(_settings(ITEM_PIPELINES={**pipelines, NotAStore: 900}))


def test_a_crawl_without_the_store_stage_vouches_for_nothing_and_keeps_the_journal(embedded) -> None:
    """``-s ITEM_PIPELINES=...`` without identity and the store stage: the crawl stores nothing and
    says so; the fetch state does not call its articles known (the next crawl stores every one) and
    the journal's items are not replayed into nothing (the next crawl stores them)."""
    import json

    from crawler.demo import build_site, serve
    from pipelines.journal import Journal
    from tests.test_journal import _article

    site = build_site(seed=3, n_articles=40)
    journal = Journal(embedded.data_dir / "journal", "demo")
    journal.append("article", [_article(n) for n in range(3)])
    server = serve(site)
    clean_and_topics = json.dumps({"pipelines.clean.CleanPipeline": 100, "pipelines.topics.TopicsPipeline": 600})
    try:
        first = run_newsmon(["crawl", "demo", "-a", f"base_url={server.base_url}/",
                             "-s", f"ITEM_PIPELINES={clean_and_topics}"], embedded.env())
        assert first.returncode == 0, first.stderr[-3000:]
        assert "ITEM_PIPELINES without pipelines.store.StorePipeline: nothing is stored" in first.stderr
        said = "switched off by settings: ITEM_PIPELINES without pipelines.identity.IdentityPipeline"
        assert said in first.stdout
        assert journal.pending() == 3, "the journal waits for a crawl that stores"
        second = run_newsmon(["crawl", "demo", "-a", f"base_url={server.base_url}/"], embedded.env())
    finally:
        server.close()
    assert second.returncode == 0, second.stderr[-3000:]
    store = embedded.open()
    try:
        runs = list(store.find("crawl_runs", {"site": "demo"}, sort=[("started_at", 1)]))
        stored = list(store.find("articles", {}))
    finally:
        store.close()
    assert [run.get("stages_off") or [] for run in runs] == [
        ["ITEM_PIPELINES without pipelines.identity.IdentityPipeline",
         "ITEM_PIPELINES without pipelines.store.StorePipeline"], []]
    assert runs[0]["stats"].get("newsmon/store/articles/inserted", 0) == 0
    assert runs[1]["stats"].get("newsmon/incremental/skipped_known", 0) == 0, "nothing was vouched for"
    assert runs[1]["stats"]["newsmon/journal/replayed/article"] == 3
    assert len(stored) == len(site.articles) + 3
    assert journal.pending() == 0


def test_a_crawl_that_leaves_the_notice_out_is_still_named_in_its_summary(embedded) -> None:
    from crawler.demo import build_site, serve

    assert list(stages_off(_settings(EXTENSIONS={}))) == ["EXTENSIONS without crawler.runs.CrawlRunRecorder",
                                                          "EXTENSIONS without crawler.stages.StagesOffNotice"]
    server = serve(build_site(seed=3, n_articles=40))
    try:
        crawl = run_newsmon(["crawl", "demo", "-a", f"base_url={server.base_url}/", "-s", "EXTENSIONS={}"],
                            embedded.env())
    finally:
        server.close()
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert "stages switched off" not in crawl.stderr  # nothing left to log it
    assert ("switched off by settings: EXTENSIONS without crawler.runs.CrawlRunRecorder, "
            "EXTENSIONS without crawler.stages.StagesOffNotice") in crawl.stdout
