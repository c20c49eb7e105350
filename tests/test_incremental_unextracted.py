"""An article page that answered 200 but gave no article is not "known and unchanged" for good:
the next crawl fetches it again (so an article lost to an extraction gap or a page the site fixed
is stored), and one that still gives none backs off instead of costing a fetch every crawl."""

from __future__ import annotations

from tests.test_incremental import _crawl  # one crawl of the demo profile, its run's stats


def _fetch_state(tier, path: str) -> dict:
    store = tier.open()
    try:
        (state,) = [s for s in store.find("fetch_state", {"site": "demo"}) if s["url"].endswith(path)]
        return state
    finally:
        store.close()


def test_an_article_page_that_gave_no_article_is_fetched_again_and_then_backs_off(embedded) -> None:
    from crawler.demo import build_site, serve
    from crawler.demo.model import Page
    from crawler.demo.site import DEFAULT_BASE_URL

    site = build_site(seed=11, n_articles=40)
    target = next(a for a in site.articles if a.language == "en" and not a.truncated)
    render = site.render

    def broken_once(path: str, base_url: str = DEFAULT_BASE_URL) -> Page | None:
        # The page answers 200 without its article (a CMS hiccup, a template the extractor
        # cannot read yet); the sitemap keeps its date, so nothing else says it changed.
        if path.split("?", 1)[0] == target.path:
            title = target.title.encode()
            return Page(200, {"Content-Type": "text/html; charset=utf-8"},
                        b"<html><head><title>" + title + b"</title></head><body><h1>" + title + b"</h1></body></html>")
        return render(path, base_url)

    site.render = broken_once  # type: ignore[method-assign]
    server = serve(site)
    try:
        first = _crawl(embedded, server)
        assert first["newsmon/store/articles/inserted"] == len(site.articles) - 1
        # the target and the demo's own pages that are no articles (empty, soft 404, a listing)
        others = sum(
            v for k, v in first.items() if k.startswith("newsmon/pages/not_article/")) - 1
        assert others == 3 and first["newsmon/incremental/unextracted"] == others + 1
        assert _fetch_state(embedded, target.path)["unextracted"] == 1

        site.render = render  # type: ignore[method-assign]
        second = _crawl(embedded, server)
        assert second.get("newsmon/store/articles/inserted", 0) == 1, "the fixed page is stored"
        assert second["newsmon/incremental/recheck_unextracted"] == others + 1
        assert second["newsmon/incremental/unextracted"] == others  # the demo's own, again
        state = _fetch_state(embedded, target.path)
        assert not state["unextracted"] and state["recheck_after"] is None

        third = _crawl(embedded, server)
        # the pages that still give no article wait an hour before the next try
        assert third.get("newsmon/incremental/recheck_unextracted", 0) == 0
        assert third.get("newsmon/incremental/unextracted", 0) == 0
        assert third.get("newsmon/store/articles/inserted", 0) == 0
    finally:
        server.close()
    store = embedded.open()
    try:
        assert store.count("articles") == len(site.articles)
    finally:
        store.close()
