"""What was fetched, per URL: the validators and dates that let a re-crawl skip unchanged pages.

One small store beside the document store, in the same place: the ``fetch_state`` collection in
MongoDB, or a ``fetch_state`` table in the embedded SQLite file. It is kept apart from the
document store's interface because its access pattern differs (one whole-site read when a crawl
opens, one bulk write when it closes) and because every worker of every run shares it.

A state is a dict with ``url`` (canonical), ``site``, ``kind`` (article, listing, feed, sitemap),
``etag``, ``last_modified`` (the HTTP validators as received), ``source_date`` (the newest
sitemap ``lastmod`` / feed date seen for it), ``published``, ``checked_at`` (last fetch attempt)
and ``changed_at`` (last time its content was new or different).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from crawler.errors import StorageError
from pipelines.storage.config import StoreConfig
from pipelines.storage.sqlitefile import open_sqlite

__all__ = ["FetchStateStore", "open_fetch_state", "state_key"]

_FIELDS = ("url", "site", "kind", "etag", "last_modified", "source_date", "published",
           "checked_at", "changed_at")
_DATES = ("source_date", "published", "checked_at", "changed_at")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS fetch_state (key TEXT PRIMARY KEY, site TEXT NOT NULL, url TEXT NOT NULL,
    kind TEXT, etag TEXT, last_modified TEXT, source_date TEXT, published TEXT, checked_at TEXT,
    changed_at TEXT);
CREATE INDEX IF NOT EXISTS fetch_state_site ON fetch_state (site);
"""


def state_key(site: str, url: str) -> str:
    return hashlib.sha256(f"{site}\n{url}".encode()).hexdigest()[:32]


class FetchStateStore(ABC):
    """Per-URL fetch knowledge of every site."""

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def load(self, site: str) -> dict[str, dict[str, Any]]:
        """Every known state of ``site``, by URL."""

    @abstractmethod
    def save(self, states: Iterable[Mapping[str, Any]]) -> int:
        """Insert or replace states (keyed on site + url); returns how many were written."""


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SqliteFetchState(FetchStateStore):
    """The ``fetch_state`` table in the embedded store's SQLite file (its own connection)."""

    def __init__(self, path: Any) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def open(self) -> None:
        try:
            conn = open_sqlite(self.path, _SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"cannot open fetch state in {self.path}: {exc}") from exc
        self._conn = conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def load(self, site: str) -> dict[str, dict[str, Any]]:
        assert self._conn is not None
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {', '.join(_FIELDS)} FROM fetch_state WHERE site = ?", (site,)
            ).fetchall()
        states = {}
        for row in rows:
            state = dict(zip(_FIELDS, row, strict=True))
            for name in _DATES:
                state[name] = _utc(state[name])
            states[state["url"]] = state
        return states

    def save(self, states: Iterable[Mapping[str, Any]]) -> int:
        assert self._conn is not None
        rows = []
        for state in states:
            values = [state.get(name) for name in _FIELDS]
            for i, name in enumerate(_FIELDS):
                if name in _DATES and values[i] is not None:
                    values[i] = _utc(values[i]).isoformat()  # type: ignore[union-attr]
            rows.append((state_key(state["site"], state["url"]), *values))
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany(
                    f"INSERT OR REPLACE INTO fetch_state (key, {', '.join(_FIELDS)}) "
                    f"VALUES ({', '.join('?' * (len(_FIELDS) + 1))})", rows)
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise StorageError(f"cannot save fetch state: {exc}") from exc
        return len(rows)


class MongoFetchState(FetchStateStore):
    """The ``fetch_state`` collection, through its own pymongo client."""

    def __init__(self, uri: str, database: str) -> None:
        self.uri, self.database = uri, database
        self._client: Any = None

    def open(self) -> None:
        from bson.codec_options import CodecOptions
        from pymongo import ASCENDING, MongoClient
        from pymongo.errors import PyMongoError

        from pipelines.storage import mask_uri

        try:
            self._client = MongoClient(self.uri, serverSelectionTimeoutMS=5000, appname="newsmon")
            self._coll = self._client[self.database].get_collection(
                "fetch_state", codec_options=CodecOptions(tz_aware=True, tzinfo=UTC))
            self._coll.create_index([("site", ASCENDING)], name="site")
        except PyMongoError as exc:
            raise StorageError(f"cannot open fetch state at {mask_uri(self.uri)}: "
                               f"{type(exc).__name__}") from exc

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def load(self, site: str) -> dict[str, dict[str, Any]]:
        return {doc["url"]: {k: doc.get(k) for k in _FIELDS}
                for doc in self._coll.find({"site": site})}

    def save(self, states: Iterable[Mapping[str, Any]]) -> int:
        from pymongo import ReplaceOne

        ops = [ReplaceOne({"_id": state_key(s["site"], s["url"])},
                          {k: s.get(k) for k in _FIELDS}, upsert=True) for s in states]
        # Small slices: FerretDB stalls on update commands of 100+ statements.
        for start in range(0, len(ops), 50):
            self._coll.bulk_write(ops[start:start + 50], ordered=False)
        return len(ops)


def open_fetch_state(config: StoreConfig) -> FetchStateStore:
    """The fetch-state store beside the configured document store (not yet opened)."""
    if config.mongo_uri:
        return MongoFetchState(config.mongo_uri, config.mongo_database)
    return SqliteFetchState(config.data_dir / "newsmon.sqlite3")
