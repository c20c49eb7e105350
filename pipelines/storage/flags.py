"""The ``topic_flags`` collection: one document per (item, topic) that was flagged.

Consumers poll it ("topic X since T", newest first) or watch it with a change stream (MongoDB);
the alerting pipeline learns from ``record`` which flags are new. A small interface of its own,
beside the item store, with two backends built from the same ``StoreConfig``:

- ``MongoFlagStore``: its own pymongo client, collection ``topic_flags`` with the indexes
  ``(topic, flagged_at desc)`` and ``(flagged_at desc)``. Written for MongoDB's semantics but
  relying on nothing FerretDB does differently (deploy/ferretdb/README.md): no transactions, no
  ``upserted_ids``, inserts in slices of 50 with ``ordered=False`` whose duplicate-key errors
  (code 11000: another crawl flagged the same item first) mean "not new".
- ``SqliteFlagStore``: table ``topic_flags`` in the embedded store's file
  (``data_dir/newsmon.sqlite3``), its own connection, WAL mode and a busy timeout, because the
  item store writes to the same file at the same time.

Document (schema_version 1)::

    _id           "<item_id>:<topic>"
    item_id       article id (hash of the canonical URL) or snippet fingerprint
    kind          "article" | "snippet"
    site, topic, title, url, published
    score         the score when first flagged; last_score: the latest one seen
    threshold     the topic's min_score when first flagged
    terms         [{term, count, field, context, matched, weight}]  (objects: no nested arrays)
    flagged_at    first time flagged (UTC); updated_at: last time seen
    schema_version 1

A flag is inserted only when its score reaches its threshold; later sightings only update
``last_score``/``updated_at``. So ``record`` returns each (item, topic) once, the first time it
crosses the threshold: that is what gets alerted, and a revision never re-alerts.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.errors import StorageError
from pipelines.storage.sqlitefile import open_sqlite

if TYPE_CHECKING:
    from pipelines.storage.config import StoreConfig

__all__ = ["FLAG_SCHEMA_VERSION", "FlagStore", "MongoFlagStore", "SqliteFlagStore", "flag_id",
           "open_flag_store"]

logger = logging.getLogger(__name__)

FLAG_SCHEMA_VERSION = 1
COLLECTION = "topic_flags"
_CHUNK = 50  # writes per call: FerretDB 1.24 stalls on update commands of ~100 statements
_DATETIME_FIELDS = ("flagged_at", "updated_at", "published")
Clock = Callable[[], datetime]


def flag_id(item_id: str, topic: str) -> str:
    """The key of one (item, topic) flag."""
    return f"{item_id}:{topic}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _ms(value: datetime) -> datetime:
    """Aware UTC, truncated to milliseconds like BSON, so both backends return equal values."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


class FlagStore(ABC):
    """Where topic flags are kept; not thread-safe, open it where it is used."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or _utcnow

    @abstractmethod
    def open(self) -> None:
        """Connect / open the file and create the collection and its indexes."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    @abstractmethod
    def describe(self) -> str:
        """Where the flags go, for the log (credentials masked)."""

    @abstractmethod
    def _existing(self, ids: list[str]) -> set[str]: ...

    @abstractmethod
    def _insert(self, docs: list[dict[str, Any]]) -> set[str]:
        """Insert documents whose ids did not exist; return the ids actually inserted."""

    @abstractmethod
    def _touch(self, updates: list[tuple[str, float, datetime]]) -> None:
        """Set ``last_score`` and ``updated_at`` of existing flags."""

    @abstractmethod
    def find(self, topic: str | None = None, since: datetime | None = None,
             limit: int = 0) -> list[dict[str, Any]]:
        """Flags (of ``topic``, first flagged at or after ``since``), newest first."""

    def record(self, flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Store flags; return the documents flagged for the first time (the ones to alert).

        Each flag needs ``item_id``, ``topic``, ``score`` and ``threshold``; the store sets
        ``_id``, ``flagged_at``, ``updated_at``, ``last_score`` and ``schema_version``. A flag below
        its threshold only updates an existing document.
        """
        if not flags:
            return []
        now = _ms(self.clock())
        latest: dict[str, dict[str, Any]] = {}
        for flag in flags:  # the last sighting in a batch wins
            latest[flag_id(flag["item_id"], flag["topic"])] = flag
        existing = self._existing(list(latest))
        new_docs = []
        updates = []
        for _id, flag in latest.items():
            if _id in existing:
                updates.append((_id, float(flag["score"]), now))
            elif flag["score"] >= flag["threshold"]:
                doc = dict(flag)
                doc.update(_id=_id, flagged_at=now, updated_at=now, last_score=flag["score"],
                           schema_version=FLAG_SCHEMA_VERSION)
                if isinstance(doc.get("published"), datetime):
                    doc["published"] = _ms(doc["published"])
                new_docs.append(doc)
        inserted = self._insert(new_docs) if new_docs else set()
        if updates:
            self._touch(updates)
        return [d for d in new_docs if d["_id"] in inserted]

    def __enter__(self) -> FlagStore:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- MongoDB / FerretDB -------------------------------------------------------------------------


class MongoFlagStore(FlagStore):
    """``topic_flags`` in a MongoDB-protocol server."""

    def __init__(self, uri: str, database: str, clock: Clock | None = None,
                 timeout_ms: int = 10_000) -> None:
        super().__init__(clock)
        self.uri, self.database, self.timeout_ms = uri, database, timeout_ms
        self._client: Any = None
        self._coll: Any = None

    def describe(self) -> str:
        from pipelines.storage.mongo import mask_uri

        return f"MongoDB {mask_uri(self.uri)} database {self.database!r} collection {COLLECTION!r}"

    def open(self) -> None:
        from bson.codec_options import CodecOptions
        from pymongo import DESCENDING, IndexModel, MongoClient
        from pymongo.errors import PyMongoError

        try:
            self._client = MongoClient(self.uri, serverSelectionTimeoutMS=self.timeout_ms,
                                       connectTimeoutMS=self.timeout_ms, appname="newsmon-flags")
            db = self._client.get_database(self.database,
                                           codec_options=CodecOptions(tz_aware=True, tzinfo=UTC))
            self._coll = db[COLLECTION]
            # One index per command: FerretDB 1.24 panics when one createIndexes command
            # re-creates several indexes that already exist (the second crawl's open).
            for index in (IndexModel([("topic", 1), ("flagged_at", DESCENDING)], name="topic_flagged_at"),
                          IndexModel([("flagged_at", DESCENDING)], name="flagged_at")):
                self._coll.create_indexes([index])
        except PyMongoError as exc:
            self.close()
            raise StorageError(f"cannot open {self.describe()}: {exc}") from exc

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = self._coll = None

    def _call(self, what: str, func: Callable[[], Any]) -> Any:
        from pymongo.errors import PyMongoError

        if self._coll is None:
            raise StorageError("the flag store is not open")
        try:
            return func()
        except PyMongoError as exc:
            raise StorageError(f"topic_flags {what} failed: {exc}") from exc

    def _existing(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            found |= self._call("find", lambda c=chunk: {d["_id"] for d in self._coll.find(
                {"_id": {"$in": c}}, {"_id": 1})})
        return found

    def _insert(self, docs: list[dict[str, Any]]) -> set[str]:
        from pymongo.errors import BulkWriteError

        inserted: set[str] = set()
        for i in range(0, len(docs), _CHUNK):
            chunk = docs[i:i + _CHUNK]
            failed: set[int] = set()
            try:
                self._call("insert", lambda c=chunk: self._coll.insert_many(c, ordered=False))
            except StorageError as exc:
                cause = exc.__cause__
                if not isinstance(cause, BulkWriteError):
                    raise
                for err in cause.details.get("writeErrors", []):
                    failed.add(err["index"])
                    if err.get("code") != 11000:  # 11000: flagged concurrently by another crawl
                        logger.warning("Could not store flag %s: %s", chunk[err["index"]]["_id"],
                                       err.get("errmsg"))
            inserted |= {d["_id"] for n, d in enumerate(chunk) if n not in failed}
        return inserted

    def _touch(self, updates: list[tuple[str, float, datetime]]) -> None:
        from pymongo import UpdateOne

        for i in range(0, len(updates), _CHUNK):
            ops = [UpdateOne({"_id": _id}, {"$set": {"last_score": score, "updated_at": now}})
                   for _id, score, now in updates[i:i + _CHUNK]]
            self._call("update", lambda o=ops: self._coll.bulk_write(o, ordered=False))

    def find(self, topic: str | None = None, since: datetime | None = None,
             limit: int = 0) -> list[dict[str, Any]]:
        query: dict[str, Any] = {}
        if topic:
            query["topic"] = topic
        if since is not None:
            query["flagged_at"] = {"$gte": _ms(since)}
        return self._call("find", lambda: list(
            self._coll.find(query).sort([("flagged_at", -1), ("_id", 1)]).limit(max(limit, 0))))


# --- SQLite -------------------------------------------------------------------------------------

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {COLLECTION} (
    _id TEXT PRIMARY KEY NOT NULL,
    topic TEXT NOT NULL,
    flagged_at TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS topic_flags_topic_flagged_at ON {COLLECTION} (topic, flagged_at DESC);
CREATE INDEX IF NOT EXISTS topic_flags_flagged_at ON {COLLECTION} (flagged_at DESC);
"""


def _iso(value: datetime) -> str:
    """Fixed-width UTC text, so lexical order is time order in the indexed column."""
    value = _ms(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _from_iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class SqliteFlagStore(FlagStore):
    """``topic_flags`` as a table in the embedded store's SQLite file."""

    def __init__(self, path: str | Path, clock: Clock | None = None, busy_timeout: float = 30.0) -> None:
        super().__init__(clock)
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._conn: sqlite3.Connection | None = None

    def describe(self) -> str:
        return f"SQLite {self.path} table {COLLECTION!r}"

    def open(self) -> None:
        try:
            # The pipeline opens, uses and closes it on its one worker thread, the CLI on the main
            # thread; never two threads at once.
            conn = open_sqlite(self.path, _SCHEMA, timeout=self.busy_timeout)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open {self.describe()}: {exc}") from exc
        self._conn = conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError("the flag store is not open")
        return self._conn

    def _existing(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        try:
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                rows = self._db().execute(
                    f"SELECT _id FROM {COLLECTION} WHERE _id IN ({','.join('?' * len(chunk))})", chunk)
                found |= {r[0] for r in rows}
        except sqlite3.Error as exc:
            raise StorageError(f"topic_flags read failed: {exc}") from exc
        return found

    def _insert(self, docs: list[dict[str, Any]]) -> set[str]:
        db = self._db()
        inserted: set[str] = set()
        try:
            db.execute("BEGIN IMMEDIATE")
            for doc in docs:
                cur = db.execute(f"INSERT OR IGNORE INTO {COLLECTION} (_id, topic, flagged_at, doc) "
                                 "VALUES (?, ?, ?, ?)",
                                 (doc["_id"], doc["topic"], _iso(doc["flagged_at"]), _encode(doc)))
                if cur.rowcount == 1:
                    inserted.add(doc["_id"])
            db.execute("COMMIT")
        except (sqlite3.Error, ValueError, TypeError) as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StorageError(f"topic_flags insert failed: {exc}") from exc
        return inserted

    def _touch(self, updates: list[tuple[str, float, datetime]]) -> None:
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(f"UPDATE {COLLECTION} SET doc = json_set(doc, '$.last_score', ?, "
                           "'$.updated_at', ?) WHERE _id = ?",
                           [(score, _iso(now), _id) for _id, score, now in updates])
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StorageError(f"topic_flags update failed: {exc}") from exc

    def find(self, topic: str | None = None, since: datetime | None = None,
             limit: int = 0) -> list[dict[str, Any]]:
        where, args = [], []
        if topic:
            where.append("topic = ?")
            args.append(topic)
        if since is not None:
            where.append("flagged_at >= ?")
            args.append(_iso(since))
        sql = f"SELECT doc FROM {COLLECTION}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY flagged_at DESC, _id"
        if limit > 0:
            sql += f" LIMIT {int(limit)}"
        try:
            return [_decode(row[0]) for row in self._db().execute(sql, args)]
        except sqlite3.Error as exc:
            raise StorageError(f"topic_flags read failed: {exc}") from exc


def _encode(doc: dict[str, Any]) -> str:
    out = dict(doc)
    for key in _DATETIME_FIELDS:
        if isinstance(out.get(key), datetime):
            out[key] = _iso(out[key])
    return json.dumps(out, ensure_ascii=False, allow_nan=False)


def _decode(text: str) -> dict[str, Any]:
    doc = json.loads(text)
    for key in _DATETIME_FIELDS:
        if isinstance(doc.get(key), str):
            doc[key] = _from_iso(doc[key])
    return doc


def open_flag_store(config: StoreConfig, clock: Clock | None = None) -> FlagStore:
    """The flag store of a configuration, not yet opened: MongoDB if a URI is set, else SQLite."""
    if config.mongo_uri:
        return MongoFlagStore(config.mongo_uri, config.mongo_database, clock=clock)
    from pipelines.storage import SQLITE_FILENAME

    return SqliteFlagStore(Path(config.data_dir) / SQLITE_FILENAME, clock=clock)
