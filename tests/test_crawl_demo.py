"""End to end: a real Scrapy crawl of the local demo site into each store tier.

The crawl runs as a user runs it (`newsmon crawl demo` in a child process, a real Scrapy
crawl over HTTP on 127.0.0.1); the assertions read what was stored and the crawl_runs document.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.conftest import assert_flags_name_stored_documents, run_newsmon


def _crawl(tier, server, *extra: str):
    result = run_newsmon(["crawl", "demo", "-a", f"base_url={server.base_url}/", *extra], tier.env())
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result


def test_demo_crawl_stores_every_article_and_snippet_once(store_tier, demo_site, demo_server) -> None:
    _crawl(store_tier, demo_server)
    store = store_tier.open()
    try:
        articles = list(store.find("articles", {"site": "demo"}))
        snippets = list(store.find("feed_snippets", {"site": "demo"}))
        runs = list(store.find("crawl_runs", {"site": "demo"}))
        assert_flags_name_stored_documents(store)
    finally:
        store.close()

    # Every fixture article exactly once, with the right fields.
    by_path = {urlsplit(doc["url"]).path: doc for doc in articles}
    assert len(by_path) == len(articles), "an article was stored under two URLs"
    expected = {truth.path: truth for truth in demo_site.articles}
    assert sorted(by_path) == sorted(expected)
    wrong = []
    for path, truth in expected.items():
        doc = by_path[path]
        got = {  # a desk byline ("news desk") is byline_org, not an author
            "title": doc["title"], "authors": doc["authors"] or doc.get("byline_org"),
            "published": doc["published"],
            "modified": doc.get("modified"),
        }
        want = {
            "title": truth.title, "authors": truth.authors, "published": truth.published,
            "modified": truth.modified if truth.modified else doc.get("modified"),
        }
        if got != want:
            wrong.append((path, got, want))
        paragraphs = doc["body"].split("\n\n")
        if truth.truncated:
            assert paragraphs[: len(truth.paragraphs)] == truth.paragraphs[: len(paragraphs)], path
        elif paragraphs != truth.paragraphs:
            wrong.append((path, "body", paragraphs[:3], truth.paragraphs[:3]))
        for phrase in demo_site.boilerplate_phrases:
            assert phrase not in doc["body"], (path, phrase)
        assert doc["schema_version"] == 1
        assert doc["published"].tzinfo is not None
    assert not wrong, f"{len(wrong)} articles differ from the fixture, e.g. {wrong[:3]}"

    # Every distinct News Feed snippet exactly once, with its date resolved across midnight.
    got_snippets = {(s["headline"], s["text"]): s for s in snippets}
    assert len(got_snippets) == len(snippets)
    want_snippets = {(s.headline, s.text): s for s in demo_site.snippets}
    assert set(got_snippets) == set(want_snippets)
    for key, truth in want_snippets.items():
        doc = got_snippets[key]
        assert doc["published"] == truth.published, (key, doc["published"], truth.published)
        assert doc["times_seen"] >= 1 and doc["seen_on"]
    days = {s.published.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Kyiv")).date()
            for s in demo_site.snippets}
    assert len(days) >= 2, "the fixture's News Feed should span midnight"

    # Broken pages are counted, and the crawl still finished normally.
    (run,) = runs
    assert run["outcome"] == "finished"
    stats = run["stats"]
    assert stats["newsmon/errors/http_404"] >= 1
    assert stats["newsmon/errors/http_500"] >= 1
    assert stats.get("newsmon/pages/not_article/empty", 0) >= 1
    assert run["summary"]["articles_new"] == len(expected)


def test_second_crawl_adds_nothing(store_tier, demo_site, demo_server) -> None:
    _crawl(store_tier, demo_server)
    store = store_tier.open()
    try:
        counts = (store.count("articles"), store.count("feed_snippets"))
    finally:
        store.close()
    # Without incremental skipping every article page is fetched again and found unchanged
    # (tests/test_incremental.py covers the default, which does not even fetch them).
    _crawl(store_tier, demo_server, "-s", "INCREMENTAL_ENABLED=False")
    store = store_tier.open()
    try:
        assert (store.count("articles"), store.count("feed_snippets")) == counts
        runs = list(store.find("crawl_runs", {"site": "demo"}, sort=[("started_at", 1)]))
    finally:
        store.close()
    assert len(runs) == 2
    second = runs[1]["summary"]
    assert second["articles_new"] == 0 and second["snippets_new"] == 0
    assert second["articles_unchanged"] == counts[0]


def test_one_store_client_per_crawl_process(store_tier, demo_server) -> None:
    """Every component of a crawl (identity, store, incremental, runs, journal replay) shares one
    client or connection, opened once, with the indexes ensured once."""
    result = run_newsmon(["crawl", "demo", "-a", f"base_url={demo_server.base_url}/", "-a", "max_pages=1",
                          "--log-level", "INFO"], store_tier.env())
    assert result.returncode == 0, result.stderr[-3000:]
    opened = [line for line in result.stderr.splitlines() if "] INFO: Opened " in line and " store " in line]
    assert len(opened) == 1, opened
    if store_tier.mongo_uri:
        assert "indexes of 7 collections ensured" in opened[0]
    store = store_tier.open()
    try:
        assert_flags_name_stored_documents(store)
    finally:
        store.close()


def test_feed_export_keeps_the_sighting_that_decided_a_snippet(tmp_path) -> None:
    """Items reach the exporter in the order their pipeline work ends: a later, unchanged sighting
    of a new snippet can come first. The export still carries the snippet once, as new."""
    import json

    from crawler.feeds import JsonLinesExporter
    from crawler.items import FeedSnippet

    def sighting(fingerprint: str, identity: str, page: str) -> FeedSnippet:
        return FeedSnippet(site="demo", headline="h", text="t", published=None, time_shown="9:18 AM",
                           seen_on=[page], fingerprint=fingerprint, doc_id=fingerprint, identity=identity)

    out = tmp_path / "items.jsonl"
    with out.open("wb") as handle:
        exporter = JsonLinesExporter(handle)
        exporter.start_exporting()
        for item in (sighting("a", "unchanged", "/p2"), sighting("a", "new", "/p1"),
                     sighting("a", "unchanged", "/p3"), sighting("b", "unchanged", "/p1"),
                     sighting("b", "unchanged", "/p2")):
            exporter.export_item(item)
        exporter.finish_exporting()
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["fingerprint"], r["identity"], r["seen_on"]) for r in rows] == [
        ("a", "new", ["/p1"]), ("b", "unchanged", ["/p1"])]


def test_feed_exports_read_like_the_store(tmp_path, demo_site, demo_server) -> None:
    """`scrapy crawl demo -O items.jsonl -O items.csv`: each snippet once, the stored document's id
    on every item, and CSV rows that keep every article field (lists joined)."""
    import csv
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT, StoreTier

    tier = StoreTier("embedded", tmp_path / "data")
    jsonl, table = tmp_path / "items.jsonl", tmp_path / "items.csv"
    result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "demo", "-a", f"base_url={demo_server.base_url}/",
                             "-O", str(jsonl), "-O", str(table), "-s", "LOG_LEVEL=ERROR"],
                            cwd=ROOT, env=tier.env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    snippets = [r for r in rows if "fingerprint" in r]
    assert len(snippets) == len({r["fingerprint"] for r in snippets}) == len(demo_site.snippets)
    assert len(rows) - len(snippets) == len(demo_site.articles)
    assert all(r["doc_id"] and r["identity"] == "new" for r in rows)
    with table.open(newline="", encoding="utf-8") as handle:
        articles = [r for r in csv.DictReader(handle) if r["type"] == "article"]
    assert len(articles) == len(demo_site.articles)
    assert all(r["title"] and r["body"] and r["doc_id"] and not r["authors"].startswith("[") for r in articles)
