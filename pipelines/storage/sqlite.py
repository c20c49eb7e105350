"""The embedded store: one SQLite file, for machines without a MongoDB server.

Each collection is a table of JSON documents (``doc``) keyed on ``_id``; the fields the crawler
queries (``site``, ``published``, ``last_seen``, and the unique ``url``) are virtual generated
columns over the JSON, indexed, so SQLite itself enforces the same unique constraints as the
MongoDB indexes. The file runs in WAL mode with ``synchronous=NORMAL`` and every bulk call is one
transaction: a killed process leaves whole batches or nothing, never a corrupt file.

Documents are stored as the JSON text ``pipelines.storage.jsondoc`` writes (datetimes as
lexically ordered marker strings) and follow the rules both MongoDB and FerretDB accept; a
document breaking them fails alone, as on a server.

Writes are bulk: a batch of upserts is one transaction of a few ``executemany`` calls (new
documents, then bookkeeping-only updates done by ``json_set`` inside SQLite, without parsing the
document in Python); only a document whose fields change is read and written whole.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler import settings as defaults  # the settings' defaults, written once there
from crawler.errors import ConfigError, StorageError
from pipelines.storage import sqlitebulk
from pipelines.storage.base import COLLECTIONS, Store, WriteSummary
from pipelines.storage.jsondoc import (
    DT,
    DT_END,
    DocumentError,
    encode_datetime,
    loads_doc,
    validate_document,
)
from pipelines.storage.jsondoc import (
    doc_id as _doc_id,
)
from pipelines.storage.jsondoc import (
    dumps as _dumps,
)
from pipelines.storage.jsondoc import (
    encode as _encode,
)
from pipelines.storage.jsondoc import (
    encode_doc as _encode_doc,
)
from pipelines.storage.jsondoc import (
    loads as _loads,
)
from pipelines.storage.sightings import plan_articles, plan_snippets
from pipelines.storage.sqlitefile import open_sqlite

__all__ = ["DocumentError", "SqliteStore", "encode_datetime", "validate_document"]

logger = logging.getLogger(__name__)

_TABLES = {
    "articles": "articles", "feed_snippets": "feed_snippets", "crawl_runs": "crawl_runs",
    "article_revisions": "article_revisions", "topic_flags": "topic_flags", "fetch_state": "fetch_state",
    "alert_outbox": "alert_outbox",
}
# Indexed generated columns per table: filters and sorts on these fields use the column (and its
# index) instead of json_extract over the document.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "articles": ("url", "site", "published", "last_seen"),
    "feed_snippets": ("site", "published", "last_seen"),
    "crawl_runs": ("site", "started_at"),
    "article_revisions": ("article_id", "revision"),
    "topic_flags": ("topic", "flagged_at", "item_id"),
    "fetch_state": ("site",),
    "alert_outbox": ("status", "sink", "next_attempt_at", "created_at"),
}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    _id TEXT PRIMARY KEY NOT NULL,
    doc TEXT NOT NULL,
    url GENERATED ALWAYS AS (json_extract(doc, '$.url')) VIRTUAL,
    site GENERATED ALWAYS AS (json_extract(doc, '$.site')) VIRTUAL,
    published GENERATED ALWAYS AS (json_extract(doc, '$.published')) VIRTUAL,
    last_seen GENERATED ALWAYS AS (json_extract(doc, '$.last_seen')) VIRTUAL
);
CREATE UNIQUE INDEX IF NOT EXISTS articles_url ON articles (url);
CREATE INDEX IF NOT EXISTS articles_site_published ON articles (site, published DESC);
CREATE INDEX IF NOT EXISTS articles_published ON articles (published);
CREATE INDEX IF NOT EXISTS articles_last_seen ON articles (last_seen);

CREATE TABLE IF NOT EXISTS feed_snippets (
    _id TEXT PRIMARY KEY NOT NULL,
    doc TEXT NOT NULL,
    site GENERATED ALWAYS AS (json_extract(doc, '$.site')) VIRTUAL,
    published GENERATED ALWAYS AS (json_extract(doc, '$.published')) VIRTUAL,
    last_seen GENERATED ALWAYS AS (json_extract(doc, '$.last_seen')) VIRTUAL
);
CREATE INDEX IF NOT EXISTS feed_snippets_site_published ON feed_snippets (site, published DESC);
CREATE INDEX IF NOT EXISTS feed_snippets_published ON feed_snippets (published);
CREATE INDEX IF NOT EXISTS feed_snippets_last_seen ON feed_snippets (last_seen);

CREATE TABLE IF NOT EXISTS crawl_runs (
    _id TEXT PRIMARY KEY NOT NULL,
    doc TEXT NOT NULL,
    site GENERATED ALWAYS AS (json_extract(doc, '$.site')) VIRTUAL,
    started_at GENERATED ALWAYS AS (json_extract(doc, '$.started_at')) VIRTUAL
);
CREATE INDEX IF NOT EXISTS crawl_runs_site_started ON crawl_runs (site, started_at DESC);

CREATE TABLE IF NOT EXISTS article_revisions (
    _id TEXT PRIMARY KEY NOT NULL,
    doc TEXT NOT NULL,
    article_id GENERATED ALWAYS AS (json_extract(doc, '$.article_id')) VIRTUAL,
    revision GENERATED ALWAYS AS (json_extract(doc, '$.revision')) VIRTUAL
);
CREATE INDEX IF NOT EXISTS article_revisions_article
    ON article_revisions (article_id, revision DESC);

CREATE TABLE IF NOT EXISTS topic_flags (
    _id TEXT PRIMARY KEY NOT NULL,
    doc TEXT NOT NULL,
    topic GENERATED ALWAYS AS (json_extract(doc, '$.topic')) VIRTUAL,
    flagged_at GENERATED ALWAYS AS (json_extract(doc, '$.flagged_at')) VIRTUAL,
    item_id GENERATED ALWAYS AS (json_extract(doc, '$.item_id')) VIRTUAL
);
CREATE INDEX IF NOT EXISTS topic_flags_topic_flagged_at ON topic_flags (topic, flagged_at DESC);
CREATE INDEX IF NOT EXISTS topic_flags_flagged_at ON topic_flags (flagged_at DESC);
CREATE INDEX IF NOT EXISTS topic_flags_item ON topic_flags (item_id);

CREATE TABLE IF NOT EXISTS fetch_state (
    _id TEXT PRIMARY KEY NOT NULL,
    doc TEXT NOT NULL,
    site GENERATED ALWAYS AS (json_extract(doc, '$.site')) VIRTUAL
);
CREATE INDEX IF NOT EXISTS fetch_state_site ON fetch_state (site);

CREATE TABLE IF NOT EXISTS alert_outbox (
    _id TEXT PRIMARY KEY NOT NULL,
    doc TEXT NOT NULL,
    status GENERATED ALWAYS AS (json_extract(doc, '$.status')) VIRTUAL,
    sink GENERATED ALWAYS AS (json_extract(doc, '$.sink')) VIRTUAL,
    next_attempt_at GENERATED ALWAYS AS (json_extract(doc, '$.next_attempt_at')) VIRTUAL,
    created_at GENERATED ALWAYS AS (json_extract(doc, '$.created_at')) VIRTUAL
);
CREATE INDEX IF NOT EXISTS alert_outbox_due ON alert_outbox (status, next_attempt_at);

-- The dedupe_keys arrays of articles and snippets, one row per (collection, key, document):
-- SQLite's counterpart of MongoDB's multikey index on dedupe_keys.
CREATE TABLE IF NOT EXISTS dedupe_keys (
    coll TEXT NOT NULL,
    key INTEGER NOT NULL,
    _id TEXT NOT NULL,
    PRIMARY KEY (coll, key, _id)
) WITHOUT ROWID;
"""
_OPERATORS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


# --- filters ----------------------------------------------------------------------------------


class _Query:
    """Translates the base.py filter language to a parameterised SQL WHERE clause.

    Values and JSON paths are bound as named parameters (``:p0``, ``:p1`` ...), never spliced
    into the SQL text; only fixed column names and operators are.
    """

    def __init__(self, table: str) -> None:
        self.table = table
        self.params: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def field(self, name: str) -> tuple[str, str]:
        """(value expression, bound JSON path placeholder) of a top-level field."""
        if not isinstance(name, str) or not name or name.startswith("$") or "." in name:
            raise ConfigError(f"filter/sort field {name!r}: only top-level field names are allowed")
        if '"' in name or "\x00" in name:
            raise ConfigError(f"filter/sort field {name!r}: quotes/NUL are not allowed")
        path = self.bind(f'$."{name}"')
        if name == "_id" or name in _COLUMNS[self.table]:
            return name, path
        return f"json_extract(doc, {path})", path

    def where(self, filter: Mapping[str, Any] | None) -> str:
        if not filter:
            return "1"
        if not isinstance(filter, Mapping):
            raise ConfigError(f"filter must be a mapping, got {type(filter).__name__}")
        terms = []
        for name, spec in filter.items():
            if isinstance(spec, Mapping) and any(str(k).startswith("$") for k in spec):
                for op, value in spec.items():
                    terms.append(self.term(name, op, value))
            else:
                terms.append(self.term(name, "$eq", spec))
        return " AND ".join(f"({t})" for t in terms)

    def term(self, name: str, op: str, value: Any) -> str:
        if op in ("$eq", "$ne"):
            eq = self.equal(name, value)
            return eq if op == "$eq" else f"NOT ({eq})"
        if op == "$in":
            if not isinstance(value, (list, tuple)):
                raise ConfigError(f"filter {name!r}: $in needs a list, got {type(value).__name__}")
            if not value:
                return "0"
            return " OR ".join(f"({self.equal(name, v)})" for v in value)
        if op in _OPERATORS:
            return self.compare(name, _OPERATORS[op], value)
        raise ConfigError(
            f"filter {name!r}: unsupported operator {op!r} "
            "(supported: equality, $gt $gte $lt $lte $in $ne)"
        )

    def equal(self, name: str, value: Any) -> str:
        """Null-safe (always true/false) MongoDB equality, incl. matching an array element."""
        expr, path = self.field(name)
        whole = self.scalar_eq(expr, f"json_type(doc, {path})", value)
        if expr == name:  # indexed columns and _id hold scalars: no array branch
            return whole
        element = self.scalar_eq("je.value", "je.type", value)
        return (
            f"({whole}) OR EXISTS (SELECT 1 FROM json_each(doc, {path}) AS je "
            f"WHERE je.type NOT IN ('array', 'object') AND ({element}))"
        )

    def scalar_eq(self, expr: str, type_of: str, value: Any) -> str:
        if value is None:
            return f"{expr} IS NULL"
        if isinstance(value, bool):
            return f"coalesce({type_of} = '{'true' if value else 'false'}', 0)"
        if isinstance(value, (int, float)):
            v = self.bind(_encode_filter(value))
            return f"coalesce({expr} = {v} AND {type_of} IN ('integer', 'real'), 0)"
        if isinstance(value, (Mapping, list, tuple)):
            v = self.bind(_dumps(_encode_filter(value)))
            return f"coalesce({type_of} IN ('array', 'object') AND {expr} = json({v}), 0)"
        encoded = _encode_filter(value)
        v = self.bind(encoded)
        if isinstance(encoded, str) and encoded[:1] in ("{", "["):
            # json_extract returns objects/arrays as JSON text: rule out a look-alike.
            return f"coalesce({expr} = {v} AND {type_of} = 'text', 0)"
        return f"coalesce({expr} = {v}, 0)"

    def compare(self, name: str, sql_op: str, value: Any) -> str:
        """A range comparison with MongoDB's type bracketing (only same-type values match)."""
        expr, path = self.field(name)
        if isinstance(value, datetime):
            v, lo, hi = self.bind(encode_datetime(value)), self.bind(DT), self.bind(DT_END)
            return f"{expr} {sql_op} {v} AND {expr} >= {lo} AND {expr} < {hi}"
        if isinstance(value, bool) or value is None or not isinstance(value, (int, float, str)):
            raise ConfigError(
                f"filter {name!r}: range operators take numbers, strings or datetimes, "
                f"got {type(value).__name__}"
            )
        v = self.bind(_encode_filter(value))
        if isinstance(value, str):
            lo, hi = self.bind(DT), self.bind(DT_END)
            return (
                f"{expr} {sql_op} {v} AND json_type(doc, {path}) = 'text' "
                f"AND NOT ({expr} >= {lo} AND {expr} < {hi})"
            )
        return f"{expr} {sql_op} {v} AND json_type(doc, {path}) IN ('integer', 'real')"

    def order_by(self, sort: Sequence[tuple[str, int]]) -> str:
        order = []
        for name, direction in sort:
            if direction not in (1, -1):
                raise ConfigError(f"sort {name!r}: direction must be 1 or -1, got {direction!r}")
            expr, _ = self.field(name)
            order.append(f"{expr} {'ASC' if direction == 1 else 'DESC'}")
        order.append("rowid ASC")  # a stable order for ties
        return ", ".join(order)


def _encode_filter(value: Any) -> Any:
    try:
        return _encode(value)
    except DocumentError as exc:
        raise ConfigError(str(exc)) from exc


# --- the store --------------------------------------------------------------------------------


class SqliteStore(Store):
    """newsmon's collections in one SQLite file (WAL, one transaction per batch)."""

    def __init__(self, path: str | Path, *, seen_on_max: int = defaults.SNIPPET_SEEN_ON_MAX,
                 busy_timeout: float = defaults.SQLITE_BUSY_TIMEOUT) -> None:
        if seen_on_max < 1:
            raise ConfigError(f"seen_on_max must be >= 1, got {seen_on_max}")
        self.path = Path(path)
        self.busy_timeout = busy_timeout  # seconds a write waits for another process's lock
        self.seen_on_max = seen_on_max
        self._conn: sqlite3.Connection | None = None
        # The caller serialises calls; the lock makes a mistake there harmless instead of
        # interleaving two transactions on one connection.
        self._lock = threading.RLock()

    # --- lifecycle ----------------------------------------------------------------------------

    def open(self) -> None:
        """Open (creating if needed) the file, set WAL + synchronous=NORMAL, create the schema."""
        with self._lock:
            if self._conn is not None:
                return
            try:
                conn = open_sqlite(self.path, _SCHEMA, timeout=self.busy_timeout,
                                   before_schema=_set_aside_legacy_tables)
                try:
                    conn.execute("PRAGMA foreign_keys=OFF")
                    _migrate_legacy_tables(conn)
                except BaseException:
                    conn.close()
                    raise
            except sqlite3.Error as exc:
                raise StorageError(f"{self.describe()}: cannot open: {exc}") from exc
            except OSError as exc:
                raise StorageError(f"{self.describe()}: cannot create directory: {exc}") from exc
            self._conn = conn
            logger.info("Opened embedded store %s", self.describe())

    def close(self) -> None:
        """Close the connection (checkpointing the WAL); idempotent."""
        with self._lock:
            if self._conn is None:
                return
            conn, self._conn = self._conn, None
            try:
                conn.close()
            except sqlite3.Error as exc:
                raise StorageError(f"{self.describe()}: close failed: {exc}") from exc

    def describe(self) -> str:
        """The SQLite file path."""
        return f"sqlite:{self.path}"

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError(f"{self.describe()}: store is not open")
        return self._conn

    def _run_batch(
        self, table: str, docs: Sequence[Mapping[str, Any]], step: Any, prefetch: str
    ) -> WriteSummary:
        """Run ``step`` per document inside one transaction and commit once."""
        summary = WriteSummary()
        if not docs:
            return summary

        def body(conn: sqlite3.Connection) -> None:
            state = self._prefetch(conn, table, docs, prefetch)
            for doc in docs:
                step(conn, doc, state, summary)

        self._transaction(table, body)
        return summary

    def _transaction(self, table: str, body: Any) -> None:
        """``body(conn)`` inside one IMMEDIATE transaction, committed once; rolled back on error."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    body(conn)
                    if not conn.in_transaction:
                        # SQLite rolls the whole transaction back on some errors (disk full,
                        # I/O): then nothing of this batch landed.
                        raise StorageError(f"{self.describe()}: batch rolled back by SQLite")
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StorageError(f"{self.describe()}: {table} batch failed: {exc}") from exc

    @staticmethod
    def _prefetch(
        conn: sqlite3.Connection, table: str, docs: Sequence[Mapping[str, Any]], columns: str
    ) -> dict[str, dict[str, Any]]:
        """``columns`` (SQL returning a JSON object) of the batch's stored ids, keyed on _id."""
        ids = sorted({d.get("_id") for d in docs if isinstance(d.get("_id"), str)})
        state: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), sqlitebulk.CHUNK):
            chunk = ids[start : start + sqlitebulk.CHUNK]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT _id, {columns} FROM {table} WHERE _id IN ({marks})"  # noqa: S608
            for doc_id, text in conn.execute(sql, chunk):
                state[doc_id] = _loads(text)
        return state

    @staticmethod
    def _write(
        conn: sqlite3.Connection, table: str, doc_id: str, doc: dict[str, Any], exists: bool
    ) -> None:
        # One statement per document: on a constraint error SQLite backs out that statement
        # alone (its statement journal acts as a savepoint) and the transaction goes on.
        if exists:
            conn.execute(f"UPDATE {table} SET doc = ? WHERE _id = ?", (_dumps(doc), doc_id))
        else:
            conn.execute(f"INSERT INTO {table} (_id, doc) VALUES (?, ?)", (doc_id, _dumps(doc)))

    # --- articles and snippets: the shared sighting rules (pipelines/storage/sightings.py) ------

    def upsert_articles(self, docs: Sequence[Mapping[str, Any]]) -> WriteSummary:
        """See ``Store.upsert_articles``; one transaction, failures isolated per ``_id``."""
        return self._upsert("articles", docs, plan_articles)

    def upsert_snippets(self, docs: Sequence[Mapping[str, Any]]) -> WriteSummary:
        """See ``Store.upsert_snippets``; same-id documents merge into one write."""
        return self._upsert("feed_snippets", docs,
                            lambda valid, known: plan_snippets(valid, known, self.seen_on_max))

    def _upsert(self, table: str, docs: Sequence[Mapping[str, Any]], plan: Any) -> WriteSummary:
        summary = WriteSummary()
        if docs:
            self._transaction(table, lambda conn: sqlitebulk.upsert(conn, table, docs, plan, summary))
        return summary

    # --- dedupe support -----------------------------------------------------------------------

    def find_candidates(
        self,
        collection: str,
        ids: Sequence[str],
        keys: Sequence[int],
        *,
        fields: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """See ``Store.find_candidates``: primary-key and ``dedupe_keys`` index lookups."""
        table = _keyed_table(collection)
        with self._lock:
            conn = self._connection()
            try:
                return sqlitebulk.find_candidates(conn, table, ids, keys, fields)
            except sqlite3.Error as exc:
                raise StorageError(f"{self.describe()}: candidate lookup failed: {exc}") from exc

    def update_fields(
        self, collection: str, updates: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> WriteSummary:
        """See ``Store.update_fields``: one transaction, failures isolated per document."""
        table = _table(collection)
        summary = WriteSummary()
        if not updates:
            return summary
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for doc_id, fields in updates:
                        try:
                            if "_id" in fields:
                                raise DocumentError("_id cannot be changed")
                            new = _encode_doc(fields)
                        except DocumentError as exc:
                            _fail(summary, {"_id": doc_id}, str(exc))
                            continue
                        row = conn.execute(
                            f"SELECT doc FROM {table} WHERE _id = ?", (doc_id,)  # noqa: S608
                        ).fetchone()
                        if row is None:
                            _fail(summary, {"_id": doc_id}, "no such document")
                            continue
                        before = _loads(row[0])
                        after = {**before, **new}
                        try:
                            conn.execute(
                                f"UPDATE {table} SET doc = ? WHERE _id = ?",  # noqa: S608
                                (_dumps(after), doc_id),
                            )
                            if table in _KEYED:
                                _sync_keys(conn, table, doc_id, before, after)
                        except sqlite3.IntegrityError as exc:
                            _fail(summary, {"_id": doc_id}, _integrity_message(exc, after))
                            continue
                        summary.updated += 1
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StorageError(f"{self.describe()}: {table} update failed: {exc}") from exc
        return summary

    def insert_documents(self, collection: str, docs: Sequence[Mapping[str, Any]]) -> WriteSummary:
        """See ``Store.insert_documents``: one transaction, failures isolated per document."""
        table = _table(collection)

        def step(conn: sqlite3.Connection, doc: Mapping[str, Any], state: Any,
                 summary: WriteSummary) -> None:
            try:
                doc_id = _doc_id(doc)
                new = _encode_doc(doc)
            except DocumentError as exc:
                _fail(summary, doc, str(exc))
                return
            try:
                conn.execute(
                    f"INSERT INTO {table} (_id, doc) VALUES (?, ?)", (doc_id, _dumps(new))  # noqa: S608
                )
                if table in _KEYED:
                    _sync_keys(conn, table, doc_id, None, new)
            except sqlite3.IntegrityError as exc:
                message = "duplicate _id" if "_id" in str(exc) else _integrity_message(exc, new)
                _fail(summary, doc, message)
                return
            summary.inserted += 1

        return self._run_batch(table, docs, step, "json_object()")

    def replace_documents(self, collection: str, docs: Sequence[Mapping[str, Any]]) -> WriteSummary:
        """See ``Store.replace_documents``: one transaction, failures isolated per document."""
        table = _table(collection)

        def step(conn: sqlite3.Connection, doc: Mapping[str, Any], state: dict[str, Any],
                 summary: WriteSummary) -> None:
            try:
                doc_id = _doc_id(doc)
                new = _encode_doc(doc)
            except DocumentError as exc:
                _fail(summary, doc, str(exc))
                return
            before = state.get(doc_id)
            try:
                self._write(conn, table, doc_id, new, exists=before is not None)
                if table in _KEYED:
                    _sync_keys(conn, table, doc_id, before, new)
            except sqlite3.IntegrityError as exc:
                _fail(summary, doc, _integrity_message(exc, new))
                return
            state[doc_id] = new
            if before is None:
                summary.inserted += 1
            else:
                summary.updated += 1

        return self._run_batch(table, docs, step, "doc" if table in _KEYED else "json_object()")

    def delete(self, collection: str, filter: Mapping[str, Any]) -> int:
        """See ``Store.delete``."""
        query = _Query(_table(collection))
        where = query.where(filter)
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    if query.table in _KEYED:
                        conn.execute(
                            f"DELETE FROM dedupe_keys WHERE coll = :coll AND _id IN "  # noqa: S608
                            f"(SELECT _id FROM {query.table} WHERE {where})",
                            {**query.params, "coll": query.table},
                        )
                    cursor = conn.execute(
                        f"DELETE FROM {query.table} WHERE {where}", query.params  # noqa: S608
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StorageError(f"{self.describe()}: delete in {collection} failed: {exc}") from exc
        return int(cursor.rowcount)

    # --- runs ---------------------------------------------------------------------------------

    def insert_run(self, run: Mapping[str, Any]) -> None:
        """Insert a crawl run; a duplicate ``_id`` or bad value raises StorageError."""
        try:
            doc_id = _doc_id(run)
            text = _dumps(_encode_doc(run))
        except DocumentError as exc:
            raise StorageError(f"crawl run {run.get('_id')!r}: {exc}") from exc
        with self._lock:
            try:
                self._connection().execute(
                    "INSERT INTO crawl_runs (_id, doc) VALUES (?, ?)", (doc_id, text)
                )
            except sqlite3.Error as exc:
                raise StorageError(f"{self.describe()}: crawl run {doc_id!r}: {exc}") from exc

    def update_run(self, run_id: str, fields: Mapping[str, Any]) -> None:
        """Set top-level fields of a crawl run (a missing run is logged, not an error)."""
        try:
            if "_id" in fields:
                raise DocumentError("_id cannot be changed")
            new = _encode_doc(fields)
        except DocumentError as exc:
            raise StorageError(f"crawl run {run_id!r}: {exc}") from exc
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    row = conn.execute(
                        "SELECT doc FROM crawl_runs WHERE _id = ?", (run_id,)
                    ).fetchone()
                    if row is None:
                        logger.warning("update_run: no crawl run %r in %s", run_id, self.describe())
                    else:
                        doc = {**_loads(row[0]), **new}
                        conn.execute(
                            "UPDATE crawl_runs SET doc = ? WHERE _id = ?", (_dumps(doc), run_id)
                        )
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StorageError(f"{self.describe()}: crawl run {run_id!r}: {exc}") from exc

    # --- queries ------------------------------------------------------------------------------

    def find(
        self,
        collection: str,
        filter: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int = 0,
    ) -> Iterator[dict[str, Any]]:
        """Yield matching documents (``_id`` first), datetimes decoded to aware UTC."""
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise ConfigError(f"limit must be an int >= 0, got {limit!r}")
        query = _Query(_table(collection))
        sql = f"SELECT _id, doc FROM {query.table} WHERE {query.where(filter)}"
        sql += f" ORDER BY {query.order_by(sort)}"
        if limit:
            sql += f" LIMIT {limit:d}"
        # Rows are fetched under the lock in one go: a cursor left open across calls would
        # interleave with writes on the same connection.
        rows = self._fetch(sql, query.params)
        return (_row_doc(doc_id, text) for doc_id, text in rows)

    def count(self, collection: str, filter: Mapping[str, Any] | None = None) -> int:
        """Count matching documents."""
        query = _Query(_table(collection))
        sql = f"SELECT count(*) FROM {query.table} WHERE {query.where(filter)}"
        return int(self._fetch(sql, query.params)[0][0])

    def _fetch(self, sql: str, params: Mapping[str, Any]) -> list[Any]:
        with self._lock:
            try:
                return self._connection().execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StorageError(f"{self.describe()}: query failed: {exc}") from exc


# --- helpers ----------------------------------------------------------------------------------

# Tables of the same name that files written before the one-store layout hold (their own
# columns and datetime text): set aside before the schema runs, their rows moved in after.
_LEGACY = {"topic_flags": "flagged_at", "fetch_state": "checked_at"}


def _set_aside_legacy_tables(conn: sqlite3.Connection) -> None:
    for table in _LEGACY:
        columns = {row[1]: row[6] for row in conn.execute(f"PRAGMA table_xinfo({table})")}
        # Legacy tables have plain (hidden = 0) columns besides _id/doc; ours are generated.
        if columns and (set(columns) - {"_id", "doc"}) and not any(columns[c] for c in columns
                                                                   if c not in ("_id", "doc")):
            conn.execute(f"ALTER TABLE {table} RENAME TO legacy_{table}")
            for (index,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                                         "AND tbl_name = ? AND sql IS NOT NULL", (f"legacy_{table}",)).fetchall():
                conn.execute(f"DROP INDEX {index}")


def _migrate_legacy_tables(conn: sqlite3.Connection) -> None:
    """Move rows of set-aside legacy tables into the current ones (one transaction each)."""
    from pipelines.storage.fetchstate import state_key

    for table in _LEGACY:
        legacy = f"legacy_{table}"
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                            (legacy,)).fetchone():
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            cursor = conn.execute(f"SELECT * FROM {legacy}")
            names = [d[0] for d in cursor.description]
            for row in cursor.fetchall():
                record = dict(zip(names, row, strict=True))
                if table == "topic_flags":
                    doc = json.loads(record["doc"])
                    doc_id = record["_id"]
                else:
                    doc = {k: v for k, v in record.items() if k != "key"}
                    doc_id = state_key(doc["site"], doc["url"])
                for key, value in doc.items():
                    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
                        try:
                            doc[key] = datetime.fromisoformat(value.replace("Z", "+00:00"))
                        except ValueError:
                            pass
                doc.pop("_id", None)
                conn.execute(f"INSERT OR REPLACE INTO {table} (_id, doc) VALUES (?, ?)",
                             (doc_id, _dumps(_encode_doc(doc))))
            conn.execute(f"DROP TABLE {legacy}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _table(collection: str) -> str:
    if collection not in _TABLES:
        raise ConfigError(f"unknown collection {collection!r} (one of {', '.join(COLLECTIONS)})")
    return _TABLES[collection]


_KEYED = ("articles", "feed_snippets")


def _keyed_table(collection: str) -> str:
    table = _table(collection)
    if table not in _KEYED:
        raise ConfigError(f"collection {collection!r} has no dedupe_keys (one of {', '.join(_KEYED)})")
    return table


def _row_doc(doc_id: str, text: str) -> dict[str, Any]:
    doc = {"_id": doc_id}
    doc.update(loads_doc(text))
    return doc


_fail = sqlitebulk.fail
_integrity_message = sqlitebulk.integrity_message
_sync_keys = sqlitebulk.sync_keys
