"""A stop signal that arrives while a crawl is closing lets the close finish: the last store
batch, the fetch state and the run record are written (``crawler/shutdown.py``). Under Scrapy's
own handlers the crawl was closed twice, its store thread stopped under the first close, and all
three were lost. Both entry points are checked: ``newsmon crawl`` and ``scrapy crawl``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _probe_newsmon(base_url: str) -> list[str]:
    return [sys.executable, "-m", "tests.shutdown_probe", base_url]


def _probe_scrapy(base_url: str) -> list[str]:
    from tests.shutdown_probe import PROBE_SETTINGS, probe_pipelines

    settings = {**PROBE_SETTINGS, "ITEM_PIPELINES": json.dumps(probe_pipelines())}
    return [sys.executable, "-m", "scrapy", "crawl", "demo", "-a", f"base_url={base_url}",
            *(arg for name, value in settings.items() for arg in ("-s", f"{name}={value}"))]


@pytest.mark.parametrize("probe", [_probe_newsmon, _probe_scrapy], ids=["newsmon-crawl", "scrapy-crawl"])
def test_a_stop_signal_during_the_close_loses_nothing(embedded, probe) -> None:
    from crawler.demo import build_site, serve

    site = build_site(seed=9, n_articles=40)
    server = serve(site)
    try:
        child = subprocess.run(probe(f"{server.base_url}/"), cwd=ROOT, env=embedded.env(),
                               capture_output=True, text=True, timeout=300)
    finally:
        server.close()
    assert "Traceback" not in child.stderr, child.stderr[-3000:]
    assert child.returncode == 0, child.stderr[-3000:]
    assert "Received SIGINT, shutting down gracefully" in child.stderr
    assert "demo is closing already: it finishes its close" in child.stderr
    store = embedded.open()
    try:
        assert store.count("articles") == len(site.articles)
        assert store.count("fetch_state") > len(site.articles)
        (run,) = store.find("crawl_runs", {"site": "demo"}, limit=1)
    finally:
        store.close()
    assert run["outcome"] == "finished" and run["stats"]["newsmon/items/article"] == len(site.articles)
