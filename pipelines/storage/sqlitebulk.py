"""The embedded store's bulk path: a batch of article or snippet sightings in a few statements.

``SqliteStore.upsert_articles``/``upsert_snippets`` and ``find_candidates`` run here, inside the
store's transaction. One batch is:

1. one query reading the batch's stored documents, of which only what the sighting rules need
   (``pipelines.storage.sightings``: ``content_hash``, ``seen_on`` and the bookkeeping fields)
   is decoded;
2. the plan (one ``Sighting`` per ``_id``);
3. the writes, in plan order, grouped: new documents in one ``executemany`` (their
   ``dedupe_keys`` rows in another), bookkeeping-only updates (``last_seen``, ``first_seen``,
   ``times_seen``, ``seen_on``, computed by ``Sighting.row`` from the values read in the same
   transaction) in one ``executemany`` of ``json_set`` statements, so the document is never
   parsed in Python; a document whose fields change (an article edited) is read and written
   whole, alone.

A constraint error in a grouped insert (a ``url`` another article holds) rolls the group back to
its savepoint and replays it one statement per document, so the failing document fails alone,
exactly as one statement per document would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from pipelines.storage.base import WriteSummary
from pipelines.storage.jsondoc import (
    DocumentError,
    check_doc,
    decode,
    doc_id,
    dumps_doc,
    dumps_value,
    encode_datetime,
    encode_doc,
    loads_doc,
)
from pipelines.storage.sightings import BOOKKEEPING, Sighting, Valid, seen_time

__all__ = ["CHUNK", "find_candidates", "integrity_message", "keys_of", "sync_keys", "upsert"]

CHUNK = 500  # ids or keys per query, well under SQLite's bound-variable limit

# What the writes read of a stored document: the plan's inputs (pipelines/storage/sightings.py)
# and the bookkeeping Sighting.row moves; only these are decoded. The whole JSON is fetched and
# parsed once by orjson: picking the fields with json_extract inside SQLite parses the document
# once per field (58 against 34 us per ~7 KB snippet, measured here).
_STATE = {
    "articles": frozenset({"content_hash", *BOOKKEEPING}),
    "feed_snippets": frozenset({"seen_on", *BOOKKEEPING}),
}


def _touch_sql(table: str, first: bool, pages: bool) -> str:
    sets = [*(["'$.first_seen', :first"] if first else []), "'$.last_seen', :last", "'$.times_seen', :times",
            *(["'$.seen_on', json(:pages)"] if pages else [])]
    return f"UPDATE {table} SET doc = json_set(doc, {', '.join(sets)}) WHERE _id = :id"


def upsert(conn: sqlite3.Connection, table: str, docs: Sequence[Mapping[str, Any]],
           plan: Callable[[Sequence[Valid], Mapping[str, Mapping[str, Any]]], list[Sighting]],
           summary: WriteSummary) -> None:
    """Validate, plan and write one batch of sightings (inside the caller's transaction)."""
    valid: list[Valid] = []
    for index, doc in enumerate(docs):
        try:
            check_doc(doc)  # fails alone, as on a server
            doc_id(doc)
            if table == "feed_snippets" and not isinstance(doc.get("seen_on") or [], (list, tuple)):
                raise DocumentError("seen_on must be a list")
            valid.append((index, str(doc["_id"]), seen_time(doc), doc))
        except (DocumentError, TypeError) as exc:
            fail(summary, doc, str(exc))
    if not valid:
        return
    known: dict[str, dict[str, Any]] = {}
    ids = sorted({i for _, i, _, _ in valid})
    for chunk in _chunks(ids):
        sql = f"SELECT _id, CAST(doc AS BLOB) FROM {table} WHERE _id IN ({_marks(chunk)})"
        known.update((i, loads_doc(raw, _STATE[table])) for i, raw in conn.execute(sql, chunk))
    _Writer(conn, table, summary, docs).run(plan(valid, known), known)


class _Writer:
    """Carries out a batch's sightings in plan order, grouping what can go in one statement."""

    def __init__(self, conn: sqlite3.Connection, table: str, summary: WriteSummary,
                 docs: Sequence[Mapping[str, Any]]) -> None:
        self.conn, self.table, self.summary, self.docs = conn, table, summary, docs
        self.inserts: list[tuple[Sighting, bytes, set[int]]] = []
        self.touches: dict[str, list[tuple[Sighting, dict[str, Any]]]] = {}  # statement -> rows

    def run(self, sightings: Iterable[Sighting], known: Mapping[str, Mapping[str, Any]]) -> None:
        for sighting in sightings:
            if sighting.insert is not None:
                row = sighting.row(None)
                self.inserts.append((sighting, dumps_doc(row), keys_of(row)))
            elif not sighting.set_fields:
                # Only the bookkeeping moves, by the one rule (Sighting.row) from the values read
                # in this transaction; json_set writes them inside SQLite, so the document is
                # never parsed in Python.
                after = sighting.row(known[sighting.doc_id])
                params: dict[str, Any] = {"id": sighting.doc_id, "times": after["times_seen"],
                                          "last": encode_datetime(after["last_seen"])}
                if sighting.first_seen is not None:
                    params["first"] = encode_datetime(after["first_seen"])
                if sighting.add_pages:
                    params["pages"] = dumps_value(sighting.union)
                sql = _touch_sql(self.table, "first" in params, "pages" in params)
                self.touches.setdefault(sql, []).append((sighting, params))
            else:
                # Inserts and bookkeeping updates of other ids commute with each other, not with
                # a whole-document write (it may move a url): write what waits first.
                self.flush()
                self.rewrite(sighting)
        self.flush()

    def flush(self) -> None:
        self._insert()
        for sql, rows in self.touches.items():
            # A bookkeeping update breaks no constraint: nothing to isolate.
            self.conn.executemany(sql, [params for _, params in rows])
            for sighting, _ in rows:
                self.landed(sighting)
        self.touches.clear()

    def _insert(self) -> None:
        rows, self.inserts = self.inserts, []
        if not rows:
            return
        sql = f"INSERT INTO {self.table} (_id, doc) VALUES (?, CAST(? AS TEXT))"
        landed = rows
        self.conn.execute("SAVEPOINT newsmon_inserts")
        try:
            self.conn.executemany(sql, [(s.doc_id, raw) for s, raw, _ in rows])
        except sqlite3.IntegrityError:
            self.conn.execute("ROLLBACK TO newsmon_inserts")
            landed = []
            for row in rows:
                sighting, raw, _ = row
                try:
                    self.conn.execute(sql, (sighting.doc_id, raw))
                except sqlite3.IntegrityError as exc:
                    # One statement: SQLite backed out this one alone (its statement journal
                    # acts as a savepoint); the batch goes on.
                    self.failed(sighting, exc)
                    continue
                landed.append(row)
        # (Any other error propagates: the caller rolls the whole transaction back.)
        self.conn.execute("RELEASE newsmon_inserts")
        self.conn.executemany("INSERT OR IGNORE INTO dedupe_keys (coll, key, _id) VALUES (?, ?, ?)",
                              [(self.table, k, s.doc_id) for s, _, keys in landed for k in keys])
        for sighting, _, _ in landed:
            self.landed(sighting)

    def rewrite(self, sighting: Sighting) -> None:
        """The whole document, read and written again (its fields change)."""
        table, doc_id_ = self.table, sighting.doc_id
        (raw,) = self.conn.execute(f"SELECT CAST(doc AS BLOB) FROM {table} WHERE _id = ?",
                                   (doc_id_,)).fetchone()
        before = orjson.loads(raw)
        # Only the fields this write touches are decoded and encoded again.
        touched = {k: before[k] for k in (*BOOKKEEPING, "seen_on") if k in before}
        row = {**before, **encode_doc(sighting.row(decode(touched)))}
        try:
            self.conn.execute(f"UPDATE {table} SET doc = CAST(? AS TEXT) WHERE _id = ?",
                              (orjson.dumps(row), doc_id_))
            sync_keys(self.conn, table, doc_id_, before, row)
        except sqlite3.IntegrityError as exc:
            self.failed(sighting, exc)
            return
        self.landed(sighting)

    def landed(self, sighting: Sighting) -> None:
        for outcome in sighting.outcomes:
            setattr(self.summary, outcome, getattr(self.summary, outcome) + 1)

    def failed(self, sighting: Sighting, exc: sqlite3.IntegrityError) -> None:
        for index in sighting.indices:
            fail(self.summary, self.docs[index], integrity_message(exc, self.docs[index]))


def find_candidates(conn: sqlite3.Connection, table: str, ids: Sequence[str], keys: Sequence[int],
                    fields: Sequence[str] | None) -> list[dict[str, Any]]:
    """Documents whose ``_id`` is in ``ids`` or whose ``dedupe_keys`` hold one of ``keys``: the
    ids from the keys' index first (no document read), then each document once."""
    wanted = {i for i in ids if isinstance(i, str)}
    for chunk in _chunks(sorted({int(k) for k in keys})):
        sql = f"SELECT DISTINCT _id FROM dedupe_keys WHERE coll = ? AND key IN ({_marks(chunk)})"
        wanted.update(i for (i,) in conn.execute(sql, [table, *chunk]))
    names = None if fields is None else frozenset(fields)
    docs = []
    for chunk in _chunks(sorted(wanted)):
        sql = f"SELECT _id, CAST(doc AS BLOB) FROM {table} WHERE _id IN ({_marks(chunk)})"
        for found, raw in conn.execute(sql, chunk):
            doc = {"_id": found}
            doc.update(loads_doc(raw, names))
            docs.append(doc)
    return docs


# --- helpers ------------------------------------------------------------------------------------


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    return (values[start : start + CHUNK] for start in range(0, len(values), CHUNK))


def _marks(chunk: Sequence[Any]) -> str:
    return ",".join("?" * len(chunk))


def keys_of(doc: Mapping[str, Any] | None) -> set[int]:
    """The int64 ``dedupe_keys`` of a document (an encoded one: same values)."""
    keys = (doc or {}).get("dedupe_keys")
    if not isinstance(keys, list):
        return set()
    return {k for k in keys if isinstance(k, int) and not isinstance(k, bool)}


def sync_keys(conn: sqlite3.Connection, table: str, doc_id_: str, before: Mapping[str, Any] | None,
              after: Mapping[str, Any]) -> None:
    """Make the ``dedupe_keys`` rows of one document match its ``dedupe_keys`` array."""
    old, new = keys_of(before), keys_of(after)
    if old - new:
        conn.executemany("DELETE FROM dedupe_keys WHERE coll = ? AND key = ? AND _id = ?",
                         [(table, k, doc_id_) for k in old - new])
    if new - old:
        conn.executemany("INSERT OR IGNORE INTO dedupe_keys (coll, key, _id) VALUES (?, ?, ?)",
                         [(table, k, doc_id_) for k in new - old])


def fail(summary: WriteSummary, doc: Mapping[str, Any], message: str) -> None:
    """Count a document that failed alone."""
    summary.failed += 1
    summary.errors.append((str(doc.get("_id")), message))


def integrity_message(exc: sqlite3.IntegrityError, doc: Mapping[str, Any]) -> str:
    """The one-line reason of a constraint error, naming the url another article holds."""
    if "articles.url" in str(exc):
        return f"duplicate url {doc.get('url')!r} (held by another article)"
    return f"constraint failed: {exc}"
