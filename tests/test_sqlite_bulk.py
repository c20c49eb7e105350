"""The embedded store's bulk path (``pipelines.storage.sqlitebulk``): bookkeeping computed inside
SQLite follows the sighting rules (``Sighting.row``) on any stored value, grouped inserts that
hit a constraint fail one document alone, and a batch stays a few statements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipelines.storage import SqliteStore
from pipelines.storage.sightings import plan_articles, plan_snippets, seen_time

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with SqliteStore(tmp_path / "s.sqlite3") as opened:
        yield opened


def _snippet(fp: str, pages: list[str], at: datetime) -> dict[str, Any]:
    return {"_id": fp, "site": "demo", "headline": "H", "text": "T", "seen_on": pages, "fetched_at": at}


def _expected(plan: Any, stored: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """What ``Sighting.row`` makes of the stored document: the rules the SQL must follow."""
    (sighting,) = plan([(0, doc["_id"], seen_time(doc), doc)], {doc["_id"]: stored})
    return sighting.row(stored)


@pytest.mark.parametrize("odd", [
    {},  # bookkeeping fields missing
    {"first_seen": "not a time", "last_seen": "\x01S escaped string", "times_seen": True},
    {"first_seen": T0 + timedelta(days=9), "last_seen": T0 + timedelta(days=9), "times_seen": 41},
    {"first_seen": 5, "last_seen": None, "times_seen": 2.5},
], ids=["missing", "not-datetimes", "later-stored", "numbers"])
def test_snippet_bookkeeping_in_sql_follows_the_rules(store: SqliteStore, odd: dict[str, Any]) -> None:
    stored = {"_id": "s1", "site": "demo", "headline": "H", "seen_on": ["/a"], **odd}
    store.replace_documents("feed_snippets", [stored])
    sighting = _snippet("s1", ["/a", "/b"], T0 + timedelta(days=1))
    expected = _expected(lambda valid, known: plan_snippets(valid, known, 100), dict(stored), sighting)
    assert store.upsert_snippets([sighting]).updated == 1
    got = next(store.find("feed_snippets", {"_id": "s1"}))
    for field in ("first_seen", "last_seen", "times_seen", "seen_on", "headline"):
        assert got.get(field) == expected.get(field), field


@pytest.mark.parametrize("odd", [
    {"last_seen": "not a time", "times_seen": False},
    {"last_seen": T0 + timedelta(days=9), "times_seen": 7},
], ids=["not-datetimes", "later-stored"])
def test_article_bookkeeping_in_sql_follows_the_rules(store: SqliteStore, odd: dict[str, Any]) -> None:
    stored = {"_id": "a1", "url": "https://x/1", "content_hash": "h", "title": "T", **odd}
    store.replace_documents("articles", [stored])
    seen = {"_id": "a1", "url": "https://x/1", "content_hash": "h", "fetched_at": T0}
    expected = _expected(plan_articles, dict(stored), seen)
    assert store.upsert_articles([seen]).unchanged == 1
    got = next(store.find("articles", {"_id": "a1"}))
    assert (got["last_seen"], got["times_seen"], got["title"]) == (
        expected["last_seen"], expected["times_seen"], "T")
    assert "first_seen" not in got  # an unchanged sighting leaves first_seen alone


def test_a_clash_in_a_grouped_insert_fails_alone_and_keeps_keys_right(store: SqliteStore) -> None:
    store.upsert_articles([{"_id": "a1", "url": "https://x/1", "content_hash": "h1", "dedupe_keys": [1],
                            "fetched_at": T0}])
    batch = [{"_id": f"a{i}", "url": f"https://x/{1 if i == 3 else i}", "content_hash": f"h{i}",
              "dedupe_keys": [i * 10, i * 10 + 1], "fetched_at": T0} for i in (2, 3, 4)]
    summary = store.upsert_articles(batch)
    assert (summary.inserted, summary.failed) == (2, 1)
    assert [doc_id for doc_id, _ in summary.errors] == ["a3"]
    assert {d["_id"] for d in store.find_candidates("articles", [], [30, 31])} == set()
    assert {d["_id"] for d in store.find_candidates("articles", [], [20, 41])} == {"a2", "a4"}


def test_a_batch_is_read_in_one_query(store: SqliteStore) -> None:
    """One prefetch query per batch, however many sightings: the documents are updated inside
    SQLite, never read again one by one."""
    pages = [f"/p{i}" for i in range(40)]
    store.upsert_snippets([_snippet(f"s{i}", ["/p0"], T0) for i in range(20)])
    statements: list[str] = []
    conn = store._connection()
    conn.set_trace_callback(statements.append)
    try:
        # s0, s2 … s38 each seen on 40 pages: 10 stored, 10 new.
        summary = store.upsert_snippets([_snippet(f"s{i}", [pages[j]], T0 + timedelta(minutes=j))
                                         for j in range(40) for i in range(0, 40, 2)])
    finally:
        conn.set_trace_callback(None)
    # Each of the 20 grows on pages 1-39 (page 0: stored, or the insert).
    assert (summary.inserted, summary.updated, summary.unchanged, summary.failed) == (10, 20 * 39, 10, 0)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1, selects
    doc = next(store.find("feed_snippets", {"_id": "s2"}))
    assert (doc["times_seen"], len(doc["seen_on"])) == (41, 40)
