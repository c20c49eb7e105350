"""The not_article_rate monitor: article pages that answer 200 but give no article are a loss with
no error anywhere (a new site, a redesign the extractor cannot read); the run's health says so."""

from __future__ import annotations

from crawler.health import HealthThresholds, NotArticleRateMonitor, evaluate
from tests.test_health import LIMITS, run, status
from tests.test_incremental import _crawl


def test_share_of_article_pages_that_gave_no_article() -> None:
    monitor = NotArticleRateMonitor()
    assert status(monitor, run({"newsmon/pages/article": 90, "newsmon/pages/not_article/listing": 3})) == "passed"
    assert status(monitor, run({"newsmon/pages/article": 10, "newsmon/pages/not_article/no_body": 20,
                                "newsmon/pages/not_article/empty": 5})) == "warning"
    assert status(monitor, run({"response_received_count": 3})) == "skipped"  # no article page fetched
    assert status(monitor, run({"newsmon/pages/article": 2, "newsmon/pages/not_article/empty": 3})) == "skipped"
    lenient = HealthThresholds.defaults(max_not_article_rate=0.9)
    assert status(monitor, run({"newsmon/pages/article": 10, "newsmon/pages/not_article/no_body": 20}),
                  limits=lenient) == "passed"
    verdict = evaluate(run({"response_received_count": 40, "newsmon/items/article": 10, "newsmon/pages/article": 10,
                            "newsmon/pages/not_article/no_body": 30}), [], LIMITS)
    assert verdict.status == "warnings"
    assert [r.name for r in verdict.problems] == ["not_article_rate"]


def test_a_crawl_whose_article_pages_the_extractor_cannot_read_warns(embedded) -> None:
    from crawler.demo import build_site, serve
    from crawler.demo.model import Page
    from crawler.demo.site import DEFAULT_BASE_URL

    site = build_site(seed=5, n_articles=40)
    unreadable = {a.path for a in site.articles[::2]}  # a template the extractor finds nothing in
    render = site.render

    def redesigned(path: str, base_url: str = DEFAULT_BASE_URL) -> Page | None:
        if path.split("?", 1)[0] in unreadable:
            return Page(200, {"Content-Type": "text/html; charset=utf-8"},
                        b"<html><head><title>Story</title></head><body><div id=app></div></body></html>")
        return render(path, base_url)

    site.render = redesigned  # type: ignore[method-assign]
    server = serve(site)
    try:
        stats = _crawl(embedded, server)
    finally:
        server.close()
    assert stats["newsmon/pages/article"] == len(site.articles) - len(unreadable)
    store = embedded.open()
    try:
        (record,) = store.find("crawl_runs", {"site": "demo"}, limit=1)
    finally:
        store.close()
    (result,) = [m for m in record["health"]["monitors"] if m["name"] == "not_article_rate"]
    assert result["status"] == "warning" and result["figure"] > 0.5, result
    assert record["health"]["status"] == "warnings"
