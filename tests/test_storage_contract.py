"""The storage contract (pipelines/storage/base.py), run against every backend.

Tiers: ``embedded`` (SqliteStore in tmp_path) always; the server tier (MongoStore) when
``NEWSMON_TEST_MONGO_URI`` or ``MONGO_URI`` is set, each test in a fresh database dropped
afterwards. The server tier's id is ``NEWSMON_TEST_SERVER_KIND`` (CI: ``ferretdb``).
"""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pymongo import monitoring

from crawler.errors import ConfigError, StorageError
from pipelines.storage import MongoStore, SqliteStore, Store, mask_uri, open_store

ROOT = Path(__file__).resolve().parents[1]
SERVER_URI = os.environ.get("NEWSMON_TEST_MONGO_URI") or os.environ.get("MONGO_URI")
SERVER_KIND = os.environ.get("NEWSMON_TEST_SERVER_KIND", "mongodb-server")
NO_SERVER = "no MONGO_URI: the real-server tier runs in CI against FerretDB (deploy/ferretdb/run.sh)"

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


@dataclass
class Backend:
    """Builds stores over one location (a file or a database), so tests can reopen it."""

    kind: str
    path: Path | None = None
    uri: str | None = None
    database: str | None = None

    @property
    def embedded(self) -> bool:
        return self.path is not None

    def make(self, *, seen_on_max: int = 100) -> Store:
        if self.path is not None:
            return SqliteStore(self.path, seen_on_max=seen_on_max)
        assert self.uri and self.database
        return MongoStore(self.uri, self.database, seen_on_max=seen_on_max)

    def open(self, **kwargs: Any) -> Store:
        store = self.make(**kwargs)
        store.open()
        return store


@pytest.fixture(params=["embedded", "server"], ids=lambda p: p if p == "embedded" else SERVER_KIND)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "embedded":
        yield Backend("embedded", path=tmp_path / "db" / "newsmon.sqlite3")
        return
    if not SERVER_URI:
        pytest.skip(NO_SERVER)
    name = f"newsmon_test_{uuid.uuid4().hex[:12]}"
    yield Backend(SERVER_KIND, uri=SERVER_URI, database=name)
    import pymongo

    with pymongo.MongoClient(SERVER_URI, serverSelectionTimeoutMS=5000) as client:
        client.drop_database(name)


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    s = backend.open()
    yield s
    s.close()


def article(n: int, **over: Any) -> dict[str, Any]:
    doc = {
        "_id": f"a{n}",
        "url": f"https://news.example/{n}",
        "site": "demo",
        "title": f"Title {n}",
        "body": "text " * 50,
        "published": T0 + timedelta(hours=n),
        "fetched_at": T0,
        "content_hash": f"h{n}",
        "tags": ["politics", f"t{n % 3}"],
        "word_count": 50 + n,
    }
    doc.update(over)
    return doc


def snippet(fp: str, pages: list[str], at: datetime, **over: Any) -> dict[str, Any]:
    doc = {"_id": fp, "site": "demo", "headline": "H", "text": "T", "published": T0,
           "time_shown": "5:29 PM", "seen_on": pages, "fetched_at": at}
    doc.update(over)
    return doc


def get(store: Store, collection: str, doc_id: str) -> dict[str, Any]:
    docs = list(store.find(collection, {"_id": doc_id}))
    assert len(docs) == 1, docs
    return docs[0]


# --- articles ---------------------------------------------------------------------------------


def test_article_counts_inserted_unchanged_updated(store: Store) -> None:
    s = store.upsert_articles([article(i) for i in range(5)])
    assert (s.inserted, s.updated, s.unchanged, s.failed) == (5, 0, 0, 0)
    batch = [article(0), article(1), article(2, content_hash="new", title="New"), article(9)]
    s = store.upsert_articles(batch)
    assert (s.inserted, s.updated, s.unchanged, s.failed) == (1, 1, 2, 0)
    assert s.errors == []
    assert store.count("articles") == 6
    assert get(store, "articles", "a2")["title"] == "New"


def test_article_bookkeeping(store: Store) -> None:
    store.upsert_articles([article(1, fetched_at=T0, section="world")])
    later, earlier = T0 + timedelta(days=2), T0 - timedelta(days=1)
    store.upsert_articles([article(1, fetched_at=later)])  # unchanged
    # Changed content seen with an older fetch time: fields replaced, last_seen stays the max.
    changed = article(1, fetched_at=earlier, content_hash="h-new", title="Changed")
    s = store.upsert_articles([changed])
    assert s.updated == 1
    doc = get(store, "articles", "a1")
    assert doc["first_seen"] == T0
    assert doc["last_seen"] == later
    assert doc["times_seen"] == 3
    assert doc["title"] == "Changed" and doc["content_hash"] == "h-new"
    assert doc["section"] == "world"  # a field not given is kept
    assert doc["fetched_at"] == earlier  # every given field replaced


def test_article_unchanged_touches_only_bookkeeping(store: Store) -> None:
    store.upsert_articles([article(1)])
    s = store.upsert_articles([article(1, title="ignored", fetched_at=T0 + timedelta(hours=1))])
    assert s.unchanged == 1
    doc = get(store, "articles", "a1")
    assert doc["title"] == "Title 1"
    assert (doc["times_seen"], doc["last_seen"]) == (2, T0 + timedelta(hours=1))


def test_unique_url_clash_fails_one_and_the_rest_lands(store: Store) -> None:
    store.upsert_articles([article(1), article(2)])
    batch = [
        article(3),
        article(4, url=article(1)["url"]),  # new id, stored url: insert clash
        article(5),
        article(2, url=article(1)["url"], content_hash="x"),  # update onto a stored url
        article(6),
        article(7, url=article(6)["url"]),  # clashes inside the batch
        article(8),
    ]
    s = store.upsert_articles(batch)
    assert (s.inserted, s.updated, s.failed) == (4, 0, 3)
    assert sorted(doc_id for doc_id, _ in s.errors) == ["a2", "a4", "a7"]
    assert all("duplicate" in message for _, message in s.errors)
    assert {d["_id"] for d in store.find("articles")} == {"a1", "a2", "a3", "a5", "a6", "a8"}
    assert get(store, "articles", "a2")["url"] == article(2)["url"]
    assert get(store, "articles", "a2")["times_seen"] == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"title": "nul \x00 inside"},
        {"word_count": math.nan},
        {"confidence": {"$where": 1.0}},
        {"confidence": {"a.b": 1.0}},
        {"tags": [["nested"]]},
    ],
    ids=["nul-string", "nan", "dollar-key", "dotted-key", "array-in-array"],
)
def test_bad_document_fails_alone(store: Store, bad: dict[str, Any]) -> None:
    s = store.upsert_articles([article(1), article(2, **bad), article(3)])
    assert (s.inserted, s.failed) == (2, 1)
    assert [doc_id for doc_id, _ in s.errors] == ["a2"]
    assert store.count("articles") == 2
    # A bad update fails alone too, leaving the stored document as it was.
    s = store.upsert_articles([article(1, content_hash="z", **bad), article(3, content_hash="z")])
    assert (s.updated, s.failed) == (1, 1)
    assert get(store, "articles", "a1")["content_hash"] == "h1"


def test_duplicate_ids_in_one_article_batch(store: Store) -> None:
    s = store.upsert_articles([article(1), article(1), article(1, content_hash="c2")])
    assert (s.inserted, s.unchanged, s.updated) == (1, 1, 1)
    doc = get(store, "articles", "a1")
    assert (doc["times_seen"], doc["content_hash"]) == (3, "c2")


def test_empty_batches(store: Store) -> None:
    assert store.upsert_articles([]).inserted == 0
    assert store.upsert_snippets([]).inserted == 0


# --- snippets ---------------------------------------------------------------------------------


def test_snippet_merge(store: Store) -> None:
    s = store.upsert_snippets([snippet("s1", ["/p1"], T0, headline="first")])
    assert s.inserted == 1
    s = store.upsert_snippets([snippet("s1", ["/p1", "/p2"], T0 + timedelta(hours=2), headline="x")])
    assert (s.updated, s.unchanged) == (1, 0)
    s = store.upsert_snippets([snippet("s1", ["/p2"], T0 - timedelta(hours=3))])
    assert (s.updated, s.unchanged) == (0, 1)
    doc = get(store, "feed_snippets", "s1")
    assert doc["seen_on"] == ["/p1", "/p2"]
    assert doc["first_seen"] == T0 - timedelta(hours=3)
    assert doc["last_seen"] == T0 + timedelta(hours=2)
    assert doc["times_seen"] == 3
    assert doc["headline"] == "first"  # other fields untouched


def test_snippet_merge_client_side_union(backend: Backend) -> None:
    """The MongoStore path for servers without ``$addToSet`` + ``$each``: ``$set`` the union."""
    if backend.embedded:
        pytest.skip("server only: the embedded store always merges client-side")
    store = backend.open(seen_on_max=3)
    try:
        store._add_to_set_each = False  # type: ignore[attr-defined]
        store.upsert_snippets([snippet("s1", ["/a"], T0)])
        s = store.upsert_snippets([snippet("s1", ["/a", "/b", "/c", "/d"], T0), snippet("s1", ["/e"], T0)])
        assert (s.updated, s.unchanged) == (1, 1)
        doc = get(store, "feed_snippets", "s1")
        assert (doc["seen_on"], doc["times_seen"]) == (["/a", "/b", "/c"], 3)
    finally:
        store.close()


def test_snippet_seen_on_cap(backend: Backend) -> None:
    store = backend.open(seen_on_max=3)
    try:
        store.upsert_snippets([snippet("s1", ["/a", "/b"], T0)])
        s = store.upsert_snippets([snippet("s1", ["/c", "/d", "/e"], T0)])
        assert s.updated == 1
        assert get(store, "feed_snippets", "s1")["seen_on"] == ["/a", "/b", "/c"]
        s = store.upsert_snippets([snippet("s1", ["/f"], T0)])
        assert s.unchanged == 1  # full: nothing more is remembered
        store.upsert_snippets([snippet("s2", ["/1", "/2", "/2", "/3", "/4"], T0)])
        assert get(store, "feed_snippets", "s2")["seen_on"] == ["/1", "/2", "/3"]
    finally:
        store.close()


def test_snippet_duplicates_in_one_batch_are_merged(store: Store) -> None:
    store.upsert_snippets([snippet("old", ["/x"], T0)])
    batch = [
        snippet("new", ["/p1"], T0 + timedelta(hours=1)),
        snippet("new", ["/p2"], T0),
        snippet("new", ["/p1"], T0 + timedelta(hours=5)),
        snippet("old", ["/y"], T0 - timedelta(hours=1)),
        snippet("old", ["/x", "/y"], T0 + timedelta(hours=1)),
    ]
    s = store.upsert_snippets(batch)
    assert (s.inserted, s.updated, s.unchanged, s.failed) == (1, 2, 2, 0)
    new = get(store, "feed_snippets", "new")
    assert (new["seen_on"], new["times_seen"]) == (["/p1", "/p2"], 3)
    assert (new["first_seen"], new["last_seen"]) == (T0, T0 + timedelta(hours=5))
    old = get(store, "feed_snippets", "old")
    assert (old["seen_on"], old["times_seen"]) == (["/x", "/y"], 3)
    assert (old["first_seen"], old["last_seen"]) == (T0 - timedelta(hours=1), T0 + timedelta(hours=1))


def test_bad_snippet_fails_alone(store: Store) -> None:
    s = store.upsert_snippets([snippet("s1", ["/a"], T0), snippet("s2", ["/b\x00"], T0)])
    assert (s.inserted, s.failed) == (1, 1)
    assert s.errors[0][0] == "s2"


# --- runs -------------------------------------------------------------------------------------


def test_runs_insert_update_find_sorted(store: Store) -> None:
    for i in range(3):
        store.insert_run({"_id": f"r{i}", "site": "demo", "started_at": T0 + timedelta(hours=i),
                          "status": "running"})
    store.update_run("r1", {"status": "ok", "finished_at": T0 + timedelta(hours=1, minutes=5),
                            "stats": {"items": 12}})
    store.update_run("missing", {"status": "ok"})  # logged, not an error
    runs = list(store.find("crawl_runs", {"site": "demo"}, sort=[("started_at", -1)]))
    assert [r["_id"] for r in runs] == ["r2", "r1", "r0"]
    assert runs[1]["status"] == "ok" and runs[1]["stats"] == {"items": 12}
    assert runs[1]["finished_at"] == T0 + timedelta(hours=1, minutes=5)
    assert store.count("crawl_runs", {"status": "running"}) == 2
    with pytest.raises(StorageError):
        store.insert_run({"_id": "r0", "site": "demo"})


# --- queries ----------------------------------------------------------------------------------


def test_filters(store: Store) -> None:
    docs = [article(i, site="a" if i % 2 else "b") for i in range(10)]
    docs[3]["section"] = "world"
    store.upsert_articles(docs)

    def ids(flt: dict[str, Any], **kw: Any) -> list[str]:
        return [d["_id"] for d in store.find("articles", flt, **kw)]

    t3 = T0 + timedelta(hours=3)
    assert sorted(ids({"published": {"$gte": t3, "$lt": T0 + timedelta(hours=6)}})) == ["a3", "a4", "a5"]
    assert sorted(ids({"published": {"$gt": t3, "$lte": T0 + timedelta(hours=5)}})) == ["a4", "a5"]
    naive = t3.replace(tzinfo=None)  # naive datetimes are UTC
    assert ids({"published": naive}) == ["a3"]
    other_tz = t3.astimezone(timezone(timedelta(hours=5)))
    assert ids({"published": other_tz}) == ["a3"]
    assert sorted(ids({"_id": {"$in": ["a1", "a7", "zz"]}})) == ["a1", "a7"]
    assert len(ids({"site": {"$ne": "a"}})) == 5
    assert ids({"site": "a", "word_count": {"$gt": 55}}, sort=[("published", -1)]) == ["a9", "a7"]
    assert ids({"section": "world"}) == ["a3"]
    assert len(ids({"section": None})) == 9  # null matches missing
    assert len(ids({"section": {"$ne": None}})) == 1
    assert sorted(ids({"tags": "t1"})) == ["a1", "a4", "a7"]  # equality matches array elements
    assert ids({}, sort=[("published", -1)], limit=3) == ["a9", "a8", "a7"]
    assert ids({"site": "b"}, sort=[("word_count", 1)], limit=2) == ["a0", "a2"]
    assert ids({"word_count": {"$in": [51, 52]}, "site": "a"}) == ["a1"]
    assert ids({"title": {"$gte": "Title 8"}}, sort=[("_id", 1)]) == ["a8", "a9"]


def test_count(store: Store) -> None:
    store.upsert_articles([article(i) for i in range(7)])
    assert store.count("articles") == 7
    assert store.count("articles", {"published": {"$lt": T0 + timedelta(hours=2)}}) == 2
    assert store.count("feed_snippets") == 0


def test_unsupported_filters_raise_config_error(store: Store) -> None:
    with pytest.raises(ConfigError, match=r"\$regex"):
        list(store.find("articles", {"title": {"$regex": "x"}}))
    with pytest.raises(ConfigError, match="unsupported operator"):
        store.count("articles", {"title": {"$exists": True}})
    with pytest.raises(ConfigError):
        store.count("articles", {"$or": [{"site": "a"}]})
    with pytest.raises(ConfigError):
        store.count("nope")


def test_datetimes_round_trip_as_aware_utc(store: Store) -> None:
    naive = datetime(2024, 1, 2, 3, 4, 5, 678000)
    plus3 = datetime(2024, 1, 2, 6, 4, 5, tzinfo=timezone(timedelta(hours=3)))
    store.upsert_articles([article(1, published=naive, modified=plus3, fetched_at=naive)])
    doc = get(store, "articles", "a1")
    assert doc["published"] == naive.replace(tzinfo=timezone.utc)
    assert doc["published"].utcoffset() == timedelta(0)
    assert doc["modified"] == plus3 and doc["modified"].utcoffset() == timedelta(0)
    assert doc["first_seen"].tzinfo is not None


# --- persistence and durability ----------------------------------------------------------------


def test_reopen_keeps_data(backend: Backend) -> None:
    with backend.make() as store:
        store.upsert_articles([article(1), article(2)])
        store.upsert_snippets([snippet("s1", ["/p"], T0)])
        store.insert_run({"_id": "r1", "started_at": T0})
    with backend.make() as store:
        assert store.count("articles") == 2
        assert get(store, "feed_snippets", "s1")["seen_on"] == ["/p"]
        assert get(store, "crawl_runs", "r1")["started_at"] == T0
        store.open()  # idempotent
    store.close()  # idempotent


CHILD = """
import sys
from datetime import datetime, timezone
from pipelines.storage import SqliteStore

store = SqliteStore(sys.argv[1])
store.open()
batch = 0
while True:
    docs = [{"_id": f"{batch}-{i}", "url": f"https://x/{batch}/{i}", "site": "d",
             "batch": batch, "content_hash": "h", "body": "x" * 2000,
             "fetched_at": datetime.now(timezone.utc)} for i in range(200)]
    summary = store.upsert_articles(docs)
    assert summary.inserted == 200, summary
    print(batch, flush=True)
    batch += 1
"""


def test_sigkill_leaves_whole_batches(backend: Backend) -> None:
    if not backend.embedded:
        pytest.skip("embedded only: a server's durability is the server's")
    assert backend.path is not None
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(backend.path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None
        for expected in range(8):  # wait for 8 committed batches; the child keeps writing
            line = child.stdout.readline()
            assert line.strip() == str(expected), child.stderr.read() if child.stderr else line
        child.send_signal(signal.SIGKILL)  # most likely mid-way through a transaction
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    with sqlite3.connect(backend.path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with backend.make() as store:
        batches: dict[int, int] = {}
        for doc in store.find("articles"):
            batches[doc["batch"]] = batches.get(doc["batch"], 0) + 1
    assert set(batches) == set(range(len(batches))) and len(batches) >= 8
    assert set(batches.values()) == {200}  # whole batches only


# --- factory and masking ------------------------------------------------------------------------


def test_open_store_picks_backend(tmp_path: Path) -> None:
    embedded = open_store(mongo_uri=None, mongo_database="newsmon", data_dir=tmp_path)
    assert isinstance(embedded, SqliteStore)
    assert embedded.describe().endswith("newsmon.sqlite3")
    server = open_store(mongo_uri="mongodb://u:secret@h:1/", mongo_database="nm", data_dir=tmp_path)
    assert isinstance(server, MongoStore)
    assert "secret" not in server.describe() and "u:***@h:1" in server.describe()


def test_mask_uri() -> None:
    assert mask_uri("mongodb://user:pa%40ss@host/db") == "mongodb://user:***@host/db"
    assert mask_uri("mongodb+srv://u:p@c.example/?tlsCertificateKeyFilePassword=k") == (
        "mongodb+srv://u:***@c.example/?tlsCertificateKeyFilePassword=***"
    )
    assert mask_uri("mongodb://host:27017/") == "mongodb://host:27017/"


def test_unreachable_server_is_one_line_storage_error() -> None:
    store = MongoStore("mongodb://bob:hunter22@127.0.0.1:9/", "nm")
    store.server_selection_timeout_ms = 200  # port 9 refuses at once; keep the test fast
    with pytest.raises(StorageError) as info:
        store.open()
    message = str(info.value)
    assert "hunter22" not in message and "bob:***@127.0.0.1:9" in message
    assert "\n" not in message


# --- dedupe support: candidates by id / dedupe_keys, field updates, inserts, deletes -----------


def test_find_candidates_by_id_and_keys(store: Store) -> None:
    docs = [article(i, _id=f"k{i}", dedupe_keys=[i, 100 + i, -(2**62)]) for i in range(3)]
    assert store.upsert_articles(docs).inserted == 3
    found = store.find_candidates("articles", ["k0"], [101], fields=["url"])
    assert sorted(d["_id"] for d in found) == ["k0", "k1"]
    assert all(set(d) == {"_id", "url"} for d in found)
    assert len(store.find_candidates("articles", [], [-(2**62)])) == 3
    assert store.find_candidates("articles", ["nope"], [999]) == []
    # Keys follow updates: the old key no longer finds the document.
    assert store.update_fields("articles", [("k2", {"dedupe_keys": [555]})]).updated == 1
    assert [d["_id"] for d in store.find_candidates("articles", [], [102, 555])] == ["k2"]
    assert store.find_candidates("articles", [], [2, 102]) == []
    with pytest.raises(ConfigError):
        store.find_candidates("crawl_runs", ["x"], [])


class _FindFilters(monitoring.CommandListener):
    """Keeps the filter of every ``find`` a client sends while ``active``."""

    def __init__(self) -> None:
        self.active = True
        self.filters: list[tuple[str, dict[str, Any]]] = []

    def started(self, event: Any) -> None:
        if self.active and event.command_name == "find":
            self.filters.append((event.command["find"], dict(event.command.get("filter") or {})))

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass


def test_id_reads_use_the_servers_id_index(backend: Backend) -> None:
    """FerretDB 1.24 answers from an index only a filter of exactly one ``_id`` (and only with
    deploy/ferretdb's patch): every other filter reads the whole collection. The store's reads
    by id (batch prefetch, dedupe candidates) are such one-``_id`` finds there, and the server
    searches its index for them; on MongoDB they are one ``$in``."""
    if backend.embedded:
        pytest.skip("server only: the embedded store reads ids by its primary key")
    import pymongo

    listener = _FindFilters()
    monitoring.register(listener)  # clients created from here on report to it (no unregister)
    store = backend.open()
    try:
        docs = [article(i, dedupe_keys=[i]) for i in range(3)]
        assert store.upsert_articles(docs).inserted == 3
        assert store.upsert_articles(docs).unchanged == 3
        found = store.find_candidates("articles", ["a0", "a1", "nope"], [], fields=["url"])
        assert sorted(d["_id"] for d in found) == ["a0", "a1"]
    finally:
        store.close()
        listener.active = False
    id_reads = [f for coll, f in listener.filters if coll == "articles" and "_id" in f]
    assert id_reads, listener.filters
    if store.server_kind == "ferretdb":  # type: ignore[attr-defined]
        assert all(isinstance(f["_id"], str) and len(f) == 1 for f in id_reads), id_reads
        with pymongo.MongoClient(backend.uri, serverSelectionTimeoutMS=5000) as client:
            plan = client[backend.database].command("explain", {"find": "articles", "filter": {"_id": "a1"}})
        assert "USING INDEX" in " ".join(plan["queryPlanner"]["Plan"]), plan  # not "SCAN"
    else:
        assert all(set(f["_id"]) == {"$in"} for f in id_reads), id_reads


def test_update_fields_insert_documents_delete(store: Store) -> None:
    store.upsert_articles([article(1, _id="u1")])
    summary = store.update_fields("articles", [("u1", {"aliases": [{"url": "https://m.test/", "first_seen": T0}]}),
                                               ("missing", {"x": 1}), ("u1", {"bad.key": 1})])
    assert (summary.updated, summary.failed) == (1, 2)
    (doc,) = store.find("articles", {"_id": "u1"})
    assert doc["aliases"] == [{"url": "https://m.test/", "first_seen": T0}] and doc["title"]
    revs = [{"_id": f"u1:{n}", "article_id": "u1", "revision": n, "replaced_at": T0} for n in (1, 2, 3)]
    assert store.insert_documents("article_revisions", revs).inserted == 3
    again = store.insert_documents("article_revisions", [revs[0], {"_id": "u1:9", "article_id": "u1", "revision": 9}])
    assert (again.inserted, again.failed) == (1, 1)
    assert store.delete("article_revisions", {"article_id": "u1", "revision": {"$lt": 3}}) == 2
    assert [d["revision"] for d in store.find("article_revisions", {"article_id": "u1"}, sort=[("revision", -1)])] == [9, 3]


def test_replace_documents_inserts_replaces_and_fails_alone(store: Store) -> None:
    first = store.replace_documents("fetch_state", [{"_id": "k1", "site": "s", "url": "u1", "etag": "a"},
                                                    {"_id": "k2", "site": "s", "url": "u2"}])
    assert (first.inserted, first.updated, first.failed) == (2, 0, 0)
    again = store.replace_documents("fetch_state", [{"_id": "k1", "site": "s", "url": "u1"},
                                                    {"_id": "k3", "site": "s", "url": "u3", "bad": math.nan}])
    assert (again.inserted, again.updated, again.failed) == (0, 1, 1)
    docs = {d["_id"]: d for d in store.find("fetch_state", {"site": "s"})}
    assert sorted(docs) == ["k1", "k2"] and "etag" not in docs["k1"], "a replace drops absent fields"


def test_topic_flags_are_new_once_and_found_newest_first(store: Store) -> None:
    from pipelines.storage.flags import find_flags, record_flags

    flag = {"item_id": "a1", "kind": "article", "topic": "t", "score": 3.0, "threshold": 2.0, "published": T0}
    below = dict(flag, item_id="a2", score=1.0)
    new = record_flags(store, [flag, below], T0)
    assert [f["_id"] for f in new] == ["a1:t"], "below the threshold: not flagged"
    assert record_flags(store, [dict(flag, score=5.0)], T0 + timedelta(hours=1)) == [], "flagged once"
    later = record_flags(store, [dict(flag, item_id="a3")], T0 + timedelta(hours=2))
    (stored,) = [f for f in find_flags(store, "t") if f["_id"] == "a1:t"]
    assert stored["last_score"] == 5.0 and stored["flagged_at"] == T0
    assert stored["updated_at"] == T0 + timedelta(hours=1)
    assert [f["_id"] for f in find_flags(store, "t")] == ["a3:t", "a1:t"] == [later[0]["_id"], "a1:t"]
    assert [f["_id"] for f in find_flags(store, since=T0 + timedelta(minutes=30))] == ["a3:t"]
    assert len(find_flags(store, limit=1)) == 1


def test_fetch_state_round_trip(store: Store) -> None:
    from pipelines.storage.fetchstate import load_fetch_state, save_fetch_state

    state = {"url": "https://x.test/a/", "site": "s", "kind": "article", "etag": '"e"', "last_modified": None,
             "source_date": T0, "published": T0 - timedelta(days=1), "checked_at": T0, "changed_at": T0,
             "unextracted": 2, "recheck_after": T0 + timedelta(hours=1)}
    assert save_fetch_state(store, [state, dict(state, site="other")]) == 2
    assert load_fetch_state(store, "s") == {state["url"]: state}
    assert save_fetch_state(store, [dict(state, etag='"f"')]) == 1
    assert load_fetch_state(store, "s")[state["url"]]["etag"] == '"f"'
