"""Repeated News Feed sightings gathered into one batched update (``SNIPPET_REPEATS_GATHERED``,
pipelines/repeats.py): the store ends the same as with every sighting sent as its own item."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.items import FeedSnippet
from pipelines.identity import item_record, snippet_document
from pipelines.repeats import Repeats
from tests.conftest import StoreTier, run_newsmon

_ALERT_KEYS = ("item_id", "kind", "topic", "score", "title", "url")


def _crawl(tmp_path: Path, base_url: str, gathered: bool) -> tuple[dict, list, list, dict]:
    tier = StoreTier("embedded", tmp_path / f"data-{gathered}")
    alerts = tmp_path / f"alerts-{gathered}.jsonl"
    done = run_newsmon(["crawl", "demo", "-a", f"base_url={base_url}/", "-s", f"SNIPPET_REPEATS_GATHERED={gathered}",
                        "-s", "ALERT_SINKS=jsonl", "-s", f"ALERT_JSONL_PATH={alerts}"], tier.env())
    assert done.returncode == 0, done.stderr[-3000:]
    store = tier.open()
    try:
        snippets = {d["_id"]: d for d in store.find("feed_snippets", {})}
        flags = sorted((f["_id"], f["score"], f["title"]) for f in store.find("topic_flags", {}))
        (run,) = store.find("crawl_runs", {"site": "demo"})
    finally:
        store.close()
    sent = sorted(tuple(json.loads(line)[k] for k in _ALERT_KEYS) for line in alerts.read_text().splitlines())
    assert run["outcome"] == "finished", run
    return snippets, flags, sent, run


def test_gathered_sightings_store_what_one_item_each_stores(tmp_path, demo_server) -> None:
    each, each_flags, each_alerts, each_run = _crawl(tmp_path, demo_server.base_url, gathered=False)
    gathered, flags, alerts, run = _crawl(tmp_path, demo_server.base_url, gathered=True)
    assert gathered.keys() == each.keys() and len(each) > 5
    for doc_id, doc in each.items():
        other = gathered[doc_id]
        for name in ("headline", "text", "published", "url", "times_seen", "versions", "topics", "revision"):
            assert other.get(name) == doc.get(name), (doc_id, name)
        # seen_on keeps pages in sighting order, which the two crawls' concurrency may swap
        assert sorted(other["seen_on"]) == sorted(doc["seen_on"]), doc_id
        # last_seen is the latest sighting's fetch time: each crawl's own clock, within its run
        assert run["started_at"] <= other["first_seen"] <= other["last_seen"] <= run["finished_at"], doc_id
    assert sum(d["times_seen"] for d in each.values()) > 2 * len(each)  # repeats were there to gather
    assert flags == each_flags and alerts == each_alerts and flags
    stats, each_stats = run["stats"], each_run["stats"]
    assert stats["newsmon/snippets/repeats/gathered"] > len(gathered)
    assert "newsmon/snippets/repeats/gathered" not in each_stats
    assert "newsmon/snippets/repeats/unwritten" not in stats
    # Counted as their items were: every sighting cleaned and written, none left in a buffer.
    for key in ("newsmon/items/snippet", "newsmon/dedupe/snippets/unchanged", "newsmon/dedupe/snippets/new"):
        assert stats[key] == each_stats[key], key
    written = sum(stats.get(f"newsmon/store/feed_snippets/{k}", 0) for k in ("inserted", "updated", "unchanged"))
    assert written == stats["newsmon/items/snippet"]


_SHOWN = datetime(2026, 5, 1, 12, tzinfo=UTC)


def _snippet(page: str, at: datetime, headline: str = "Shelling in Kharkiv", fingerprint: str = "fp-1") -> FeedSnippet:
    return FeedSnippet(site="demo", headline=headline, text="Two people were injured.", published=_SHOWN,
                       time_shown="5:29 PM", url=None, seen_on=[page], fetched_at=at, fingerprint=fingerprint)


def test_gathered_writes_equal_one_write_per_sighting(store_tier) -> None:
    """The batched update of N sightings leaves the document as N one-sighting writes do, with
    the seen_on cap, out-of-order fetch times and pages seen twice (both tiers)."""
    start = _SHOWN
    pages = [(f"/p{i % 7}", start + timedelta(minutes=(i * 37) % 11 - 5)) for i in range(1, 30)]
    store = store_tier.open()
    try:
        # One document written a sighting at a time, another (another fingerprint) with them gathered.
        each, first = _snippet("/p0", start, fingerprint="fp-each"), _snippet("/p0", start, fingerprint="fp-gathered")
        store.upsert_snippets([snippet_document(each), snippet_document(first)])
        for page, at in pages:
            summary = store.upsert_snippets([snippet_document(_snippet(page, at, fingerprint="fp-each"))])
            assert summary.failed == 0
        repeats = Repeats()
        assert repeats.gather(first) is False  # the first is sent as an item
        for page, at in pages:
            assert repeats.gather(_snippet(page, at, fingerprint="fp-gathered")) is True
        assert repeats.ready == 0  # nothing writable before its first sighting landed
        repeats.landed(first, "fp-gathered", item_record(first)[1])
        assert repeats.ready == len(pages)
        docs, records = repeats.take()
        assert len(docs) == len(records) == len(pages) and repeats.ready == 0
        summary = store.upsert_snippets(docs)
        assert summary.failed == 0 and summary.updated + summary.unchanged == len(pages)
        found = {d["_id"]: d for d in store.find("feed_snippets", {})}
    finally:
        store.close()
    one_each, gathered = found.pop("fp-each"), found.pop("fp-gathered")
    assert not found
    assert {k: v for k, v in gathered.items() if k != "_id"} == {k: v for k, v in one_each.items() if k != "_id"}
    assert one_each["times_seen"] == 1 + len(pages) and len(one_each["seen_on"]) == 7


def test_a_changed_snippet_is_not_gathered_and_a_missed_first_sighting_journals_its_repeats() -> None:
    at = datetime(2026, 5, 1, 12, tzinfo=UTC)
    repeats = Repeats()
    first = _snippet("/p0", at)
    assert not repeats.gather(first)
    assert not repeats.gather(_snippet("/p1", at, headline="Shelling in Kharkiv (corrected)"))
    assert repeats.gather(_snippet("/p2", at)) and repeats.gather(_snippet("/p3", at))
    records = repeats.missed(first, item_record(first)[1])  # journaled, or its write failed
    assert [r["seen_on"] for r in records] == [["/p2"], ["/p3"]]
    assert all(r["fingerprint"] == "fp-1" and r["headline"] == "Shelling in Kharkiv" for r in records)
    assert not repeats.gather(_snippet("/p4", at))  # forgotten: the next sighting takes the full path
    assert repeats.pending() == 0 and repeats.take() == ([], [])

