"""Dedupe end to end: real crawls of local fixture sites (`newsmon crawl` in a child process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.demo import build_site, serve
from crawler.profiles import SHIPPED_SITES_DIR
from pipelines.history import article_history
from tests.conftest import run_newsmon

# Sites of these tests' own (they edit them), at half the crawl tests' size: what dedupe decides
# per page does not depend on how many pages there are, and each test crawls two or three times.
# Still room for every fixed case of the generator (the cp1251 story both seeds carry, the
# truncated story, recent ones).
SITE_ARTICLES = 40


def _crawl(tier, site: str, base_url: str, sites_dir: Path | None = None) -> dict:
    env = tier.env()
    if sites_dir is not None:
        env["NEWSMON_SITES_DIR"] = str(sites_dir)
    # Incremental skipping off: these tests are about what dedupe decides for every page fetched
    # (tests/test_incremental.py covers what is fetched at all).
    result = run_newsmon(["crawl", site, "-a", f"base_url={base_url}/", "-s", "INCREMENTAL_ENABLED=False"], env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    store = tier.open()
    try:
        (run,) = list(store.find("crawl_runs", {"site": site}, sort=[("started_at", -1)], limit=1))
    finally:
        store.close()
    return run["stats"]


def test_unchanged_recrawl_and_an_edited_article(store_tier) -> None:
    site = build_site(seed=7, n_articles=SITE_ARTICLES)
    with serve(site) as server:
        first = _crawl(store_tier, "demo", server.base_url)
        n = first["newsmon/dedupe/new"]
        assert n == len(site.articles)
        second = _crawl(store_tier, "demo", server.base_url)
        assert second["newsmon/dedupe/unchanged"] == n
        assert not any(second.get(f"newsmon/dedupe/{k}") for k in ("new", "revision", "exact_duplicate",
                                                                     "near_duplicate"))
        assert not second.get("newsmon/dedupe/snippets/new")
        target = next(a for a in site.articles if not a.truncated and a.language == "en")
        site.edit_article(target.path, [*target.paragraphs, "This story has been updated with new details."])
        third = _crawl(store_tier, "demo", server.base_url)
    assert third["newsmon/dedupe/revision"] == 1 and third["newsmon/dedupe/unchanged"] == n - 1
    store = store_tier.open()
    try:
        assert store.count("articles") == n
        history = article_history(store, target.url(server.base_url))
    finally:
        store.close()
    assert history is not None and [r["revision"] for r in history["revisions"]] == [2, 1]
    assert history["revisions"][0]["changes"]["added"] == ["This story has been updated with new details."]
    shown = run_newsmon(["history", target.url(server.base_url)], store_tier.env(), timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "revision 2 (current)" in shown.stdout
    assert "+ This story has been updated with new details." in shown.stdout
    missing = run_newsmon(["history", server.base_url + "/no-such-story/"], store_tier.env(), timeout=60)
    assert missing.returncode == 2 and "no stored article" in missing.stderr


def test_republished_story_on_a_second_site_is_linked(store_tier, tmp_path: Path) -> None:
    origin = build_site(seed=7, n_articles=SITE_ARTICLES)
    mirror = build_site(seed=11, n_articles=SITE_ARTICLES)
    # Stories the mirror does not carry already (two seeds can draw the same headline).
    copies = [a for a in origin.articles
              if not a.truncated and a.language == "en" and mirror.article(a.path) is None][:2]
    exact = mirror.add_article(copies[0].title, copies[0].paragraphs)
    near = mirror.add_article(copies[1].title, [*copies[1].paragraphs[:-1],
                                                copies[1].paragraphs[-1] + " (Reuters contributed.)"])
    profile = (SHIPPED_SITES_DIR / "demo.toml").read_text().replace('name = "demo"', 'name = "mirror"')
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "mirror.toml").write_text(profile)
    with serve(origin) as a, serve(mirror) as b:
        _crawl(store_tier, "demo", a.base_url)
        stats = _crawl(store_tier, "mirror", b.base_url, tmp_path / "sites")
    # Both seeds also carry the same fixed Ukrainian (cp1251) article: a true exact duplicate.
    same = {(x.title, tuple(x.paragraphs)): x for x in origin.articles}
    identical = {m.path: same[(m.title, tuple(m.paragraphs))] for m in mirror.articles
                 if (m.title, tuple(m.paragraphs)) in same}
    assert exact.path in identical and len(identical) == 2
    assert stats["newsmon/dedupe/exact_duplicate"] == len(identical)
    assert stats["newsmon/dedupe/near_duplicate"] == 1
    assert stats["newsmon/dedupe/new"] == len(mirror.articles) - len(identical) - 1
    store = store_tier.open()
    try:
        linked = {d["url"]: d for d in store.find("articles") if d.get("aliases")}
    finally:
        store.close()
    found = {(url, alias["url"], alias["kind"]) for url, doc in linked.items() for alias in doc["aliases"]}
    # One document per story with the other URL as its alias: the URL it was first found under
    # (the demo's), unless the copy was published earlier (then the document takes the copy's).
    pairs = [(o, mirror.article(m_path), "exact") for m_path, o in identical.items()]
    pairs.append((copies[1], near, "near"))
    want = set()
    for first, copy, kind in pairs:
        urls = (first.url(a.base_url), copy.url(b.base_url))
        want.add((*urls[::-1], kind) if copy.published < first.published else (*urls, kind))
    assert found == want
