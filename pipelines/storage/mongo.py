"""The server store: MongoDB (or a wire-compatible server such as FerretDB) through pymongo.

Each bulk upsert costs two round trips on MongoDB: one ``find`` of the batch's ids (to learn which
exist, with their ``content_hash`` / ``seen_on`` / ``times_seen``) and one unordered ``bulk_write``
of ``InsertOne`` / ``UpdateOne``. On FerretDB the ids are read one ``find`` each, the only read
its SQLite backend answers from an index (``_find_by_ids``). Written to MongoDB's semantics, but
nothing relies on what FerretDB does differently (deploy/ferretdb/README.md): after a
``BulkWriteError`` the counts are not trusted (FerretDB stops at the first error even when
unordered); the store re-reads which ids reached their expected ``times_seen`` and retries the
others one by one, so one bad document never stops the rest. Unique violations are recognised by
code 11000 (insert) and code 1 with a duplicate-key message (FerretDB's update); ``upserted_ids``
are never used.

Documents are checked against the rules every backend takes (``validate_document``), so a
document with NaN or a ``$`` key fails alike on MongoDB, FerretDB and the embedded store.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from bson.codec_options import CodecOptions
from pymongo import ASCENDING, DESCENDING, IndexModel, InsertOne, MongoClient, UpdateOne
from pymongo.errors import BulkWriteError, ConfigurationError, OperationFailure, PyMongoError

from crawler import settings as defaults  # the settings' defaults, written once there
from crawler.errors import ConfigError, StorageError
from pipelines.storage.base import COLLECTIONS, Store, WriteSummary
from pipelines.storage.sightings import Sighting, count, plan_articles, plan_snippets, seen_time
from pipelines.storage.sqlite import DocumentError, validate_document

__all__ = ["MongoStore", "mask_uri"]

logger = logging.getLogger(__name__)

_INDEXES: dict[str, list[IndexModel]] = {
    "articles": [
        IndexModel([("url", ASCENDING)], name="url_unique", unique=True),
        IndexModel([("site", ASCENDING), ("published", DESCENDING)], name="site_published"),
        IndexModel([("published", ASCENDING)], name="published"),
        IndexModel([("last_seen", ASCENDING)], name="last_seen"),
        IndexModel([("dedupe_keys", ASCENDING)], name="dedupe_keys"),
    ],
    "feed_snippets": [
        IndexModel([("site", ASCENDING), ("published", DESCENDING)], name="site_published"),
        IndexModel([("published", ASCENDING)], name="published"),
        IndexModel([("last_seen", ASCENDING)], name="last_seen"),
        IndexModel([("dedupe_keys", ASCENDING)], name="dedupe_keys"),
    ],
    "article_revisions": [
        IndexModel([("article_id", ASCENDING), ("revision", DESCENDING)], name="article_revision"),
    ],
    "crawl_runs": [
        IndexModel([("site", ASCENDING), ("started_at", DESCENDING)], name="site_started_at"),
    ],
    "topic_flags": [
        IndexModel([("topic", ASCENDING), ("flagged_at", DESCENDING)], name="topic_flagged_at"),
        IndexModel([("flagged_at", DESCENDING)], name="flagged_at"),
        IndexModel([("item_id", ASCENDING)], name="item_id"),
    ],
    "fetch_state": [
        IndexModel([("site", ASCENDING)], name="site"),
    ],
    "alert_outbox": [
        IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="status_next_attempt"),
    ],
}
# Writes per bulk_write call. pymongo splits big batches itself on MongoDB; FerretDB 1.24 never
# answers an update command of 100 or more statements (the client times out; 90 pass), so on
# FerretDB a batch goes out in slices well below that.
_BULK_CHUNK = 1000
_FERRETDB_BULK_CHUNK = 50
# Values per ``$in`` of ids or dedupe keys: well inside a command's 16 MB.
_IN_SLICE = 500
_FILTER_OPERATORS = {"$gt", "$gte", "$lt", "$lte", "$in", "$ne", "$eq"}
# Codes a server answers with when it lacks an update operator / modifier.
_UNSUPPORTED_CODES = {2, 9, 115, 238}
_URI_PASSWORD = re.compile(r"^(?P<head>[a-z0-9+.-]+://)(?P<user>[^:@/]*):(?P<pw>.*)$", re.I)


def mask_uri(uri: str) -> str:
    """``uri`` with its password (and any ``*password*`` option) replaced by ``***``."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return uri
    query_at = rest.find("?")
    at = rest.rfind("@", 0, query_at if query_at != -1 else len(rest))
    if at != -1:
        userinfo, rest = rest[:at], rest[at + 1 :]
        user, colon, _ = userinfo.partition(":")
        rest = f"{user}:***@{rest}" if colon else f"{user}@{rest}"
    rest = re.sub(r"(?i)([?&][^=&]*password[^=&]*=)[^&]*", r"\1***", rest)
    return f"{scheme}://{rest}"


def _uri_secrets(uri: str) -> list[str]:
    """The password of ``uri`` in raw and decoded form, to scrub from error messages."""
    scheme, sep, rest = uri.partition("://")
    query_at = rest.find("?")
    at = rest.rfind("@", 0, query_at if query_at != -1 else len(rest))
    if not sep or at == -1 or ":" not in rest[:at]:
        return []
    password = rest[:at].partition(":")[2]
    return [s for s in {password, unquote(password)} if len(s) >= 3]


class MongoStore(Store):
    """newsmon's collections in a MongoDB database (also runs against FerretDB)."""

    def __init__(
        self,
        uri: str,
        database: str,
        *,
        seen_on_max: int = defaults.SNIPPET_SEEN_ON_MAX,
        batch_timeout_ms: int = 60_000,
        server_selection_timeout_ms: int = round(defaults.MONGO_SERVER_SELECTION_TIMEOUT * 1000),
    ) -> None:
        if seen_on_max < 1:
            raise ConfigError(f"seen_on_max must be >= 1, got {seen_on_max}")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,63}", database):
            # The names both MongoDB and FerretDB accept.
            raise ConfigError(f"MongoDB database name {database!r}: use [A-Za-z0-9_-], 1-63 chars")
        self._uri = uri
        self.database = database
        self.seen_on_max = seen_on_max
        self.batch_timeout_ms = batch_timeout_ms
        self.server_selection_timeout_ms = server_selection_timeout_ms
        self._secrets = _uri_secrets(uri)
        self._client: MongoClient[dict[str, Any]] | None = None
        self._db: Any = None
        # None until known: whether the server takes $addToSet with $each (else $set the union).
        self._add_to_set_each: bool | None = None
        # FerretDB's differences (deploy/ferretdb/README.md) are handled only when the server
        # says it is FerretDB (buildInfo carries ``ferretdbVersion``): real MongoDB gets the
        # normal bulk sizes and one createIndexes command per collection.
        self.server_kind = "unknown"
        self._chunk = _BULK_CHUNK
        self._ids_one_by_one = False

    # --- lifecycle ----------------------------------------------------------------------------

    def open(self) -> None:
        """Connect, ping (StorageError if unreachable) and create the indexes; idempotent."""
        if self._client is not None:
            return
        try:
            # Timeouts given in the URI win over newsmon's defaults.
            options = {"appname": "newsmon", "tz_aware": True, "tzinfo": timezone.utc}
            lowered = self._uri.lower()
            if "serverselectiontimeoutms=" not in lowered:
                options["serverSelectionTimeoutMS"] = self.server_selection_timeout_ms
            if "sockettimeoutms=" not in lowered:
                options["socketTimeoutMS"] = self.batch_timeout_ms
            client: MongoClient[dict[str, Any]] = MongoClient(self._uri, **options)
        except ConfigurationError as exc:  # InvalidURI is a subclass
            raise ConfigError(f"bad MongoDB URI {self.describe()}: {self._clean(exc)}") from exc
        try:
            info = client.admin.command("buildInfo")
            ferretdb = "ferretdbVersion" in info
            self.server_kind = "ferretdb" if ferretdb else "mongodb"
            self._chunk = _FERRETDB_BULK_CHUNK if ferretdb else _BULK_CHUNK
            self._ids_one_by_one = ferretdb
            db = client.get_database(
                self.database, codec_options=CodecOptions(tz_aware=True, tzinfo=timezone.utc)
            )
            commands = 0
            for name, indexes in _INDEXES.items():
                if ferretdb:
                    # One index per command: FerretDB 1.24 drops the connection (a server-side
                    # panic) on a createIndexes of several indexes that all exist already.
                    for index in indexes:
                        db[name].create_indexes([index])
                        commands += 1
                else:
                    db[name].create_indexes(indexes)
                    commands += 1
        except PyMongoError as exc:
            client.close()
            raise StorageError(f"cannot use MongoDB {self.describe()}: {self._clean(exc)}") from exc
        self._client, self._db = client, db
        logger.info("Opened %s store %s (indexes of %d collections ensured in %d createIndexes)",
                    "FerretDB" if self.server_kind == "ferretdb" else "MongoDB", self.describe(),
                    len(_INDEXES), commands)

    def close(self) -> None:
        """Close the client; idempotent."""
        if self._client is not None:
            client, self._client, self._db = self._client, None, None
            client.close()

    def describe(self) -> str:
        """The URI with credentials masked, plus the database."""
        return f"{mask_uri(self._uri)} (database {self.database})"

    def _coll(self, name: str) -> Any:
        if name not in COLLECTIONS:
            raise ConfigError(f"unknown collection {name!r} (one of {', '.join(COLLECTIONS)})")
        if self._db is None:
            raise StorageError(f"{self.describe()}: store is not open")
        return self._db[name]

    def _clean(self, exc: BaseException) -> str:
        """One line from an exception, credentials scrubbed."""
        return f"{type(exc).__name__}: {self._scrub(str(exc))}"

    def _scrub(self, text: str) -> str:
        text = text.splitlines()[0] if text.strip() else "(no message)"
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text if len(text) <= 300 else text[:297] + "..."

    def _find_by_ids(
        self, coll: Any, ids: Sequence[str], projection: Mapping[str, Any] | None
    ) -> Iterator[dict[str, Any]]:
        """The stored documents of ``ids``: by ``$in`` (in slices) on MongoDB, which answers it
        from the ``_id`` index. On FerretDB 1.24 one ``find`` per id: its SQLite backend answers
        only a filter of exactly one ``_id`` from an index (deploy/ferretdb/sqlite-id-index.patch)
        and reads the whole collection for any other, so an ``$in`` of a 200-item batch costs
        more with every document stored, and a store that holds a long crawl becomes the
        crawl's bottleneck (bench/crawl.py, mongo mode)."""
        unique = list(dict.fromkeys(ids))
        if self._ids_one_by_one:
            for doc_id in unique:
                yield from coll.find({"_id": doc_id}, projection)
            return
        for start in range(0, len(unique), _IN_SLICE):
            yield from coll.find({"_id": {"$in": unique[start : start + _IN_SLICE]}}, projection)

    # --- articles -----------------------------------------------------------------------------

    def upsert_articles(self, docs: Sequence[Mapping[str, Any]]) -> WriteSummary:
        """See ``Store.upsert_articles``: one prefetch, one unordered bulk write per batch."""
        summary = WriteSummary()
        valid = self._validate(docs, summary)
        if not valid:
            return summary
        coll = self._coll("articles")
        known = self._prefetch(coll, valid, {"content_hash": 1, "times_seen": 1})
        self._write(coll, plan_articles(valid, known), summary, docs, self._article_op)
        return summary

    @staticmethod
    def _article_op(plan: Sighting, add_to_set: bool) -> InsertOne[Any] | UpdateOne:
        if plan.insert is not None:
            return InsertOne(
                {**plan.insert, "last_seen": plan.last_seen, "times_seen": plan.inc}
            )
        update: dict[str, Any] = {
            "$max": {"last_seen": plan.last_seen},
            "$inc": {"times_seen": plan.inc},
        }
        if plan.set_fields:  # an empty $set is an error on older servers
            update["$set"] = plan.set_fields
        return UpdateOne({"_id": plan.doc_id}, update)

    # --- snippets -----------------------------------------------------------------------------

    def upsert_snippets(self, docs: Sequence[Mapping[str, Any]]) -> WriteSummary:
        """See ``Store.upsert_snippets``: same-id documents merge into one write."""
        summary = WriteSummary()
        valid = self._validate(docs, summary, snippets=True)
        if not valid:
            return summary
        coll = self._coll("feed_snippets")
        known = self._prefetch(coll, valid, {"seen_on": 1, "times_seen": 1})
        self._write(coll, plan_snippets(valid, known, self.seen_on_max), summary, docs, self._snippet_op)
        return summary

    @staticmethod
    def _snippet_op(plan: Sighting, add_to_set: bool) -> InsertOne[Any] | UpdateOne:
        if plan.insert is not None:
            return InsertOne(
                {
                    **plan.insert,
                    "seen_on": plan.union,
                    "first_seen": plan.first_seen,
                    "last_seen": plan.last_seen,
                    "times_seen": plan.inc,
                }
            )
        update: dict[str, Any] = {
            "$min": {"first_seen": plan.first_seen},
            "$max": {"last_seen": plan.last_seen},
            "$inc": {"times_seen": plan.inc},
        }
        if plan.add_pages:
            if add_to_set:
                # Server-side set union: pages another writer added meanwhile are kept.
                update["$addToSet"] = {"seen_on": {"$each": plan.add_pages}}
            else:
                update["$set"] = {"seen_on": plan.union}
        return UpdateOne({"_id": plan.doc_id}, update)

    # --- the shared write path ----------------------------------------------------------------

    def _validate(
        self, docs: Sequence[Mapping[str, Any]], summary: WriteSummary, *, snippets: bool = False
    ) -> list[tuple[int, str, datetime, Mapping[str, Any]]]:
        """(index, _id, seen time, doc) of each storable document; the others fail here."""
        valid = []
        for index, doc in enumerate(docs):
            try:
                validate_document(doc)
                seen = seen_time(doc)
                if snippets and not isinstance(doc.get("seen_on") or [], (list, tuple)):
                    raise DocumentError("seen_on must be a list")
            except (DocumentError, TypeError) as exc:
                _fail(summary, doc, str(exc))
                continue
            valid.append((index, str(doc["_id"]), seen, doc))
        return valid

    def _prefetch(
        self, coll: Any, valid: list[tuple[int, str, datetime, Mapping[str, Any]]], fields: dict
    ) -> dict[str, dict[str, Any]]:
        ids = [doc_id for _, doc_id, _, _ in valid]
        try:
            return {d["_id"]: d for d in self._find_by_ids(coll, ids, fields)}
        except PyMongoError as exc:
            raise StorageError(f"{self.describe()}: {coll.name} prefetch: {self._clean(exc)}") from exc

    def _write(
        self,
        coll: Any,
        plans: list[Sighting],
        summary: WriteSummary,
        docs: Sequence[Mapping[str, Any]],
        make_op: Any,
    ) -> None:
        """Unordered bulk writes (in slices); on a partial failure, verify and retry one by one."""
        add_to_set = self._add_to_set_each is not False
        suspects: list[Sighting] = []
        try:
            for start in range(0, len(plans), self._chunk):
                chunk = plans[start : start + self._chunk]
                try:
                    coll.bulk_write([make_op(p, add_to_set) for p in chunk], ordered=False)
                except (BulkWriteError, OperationFailure) as exc:
                    # Counts are not trusted: FerretDB stops at the first error even when
                    # unordered, and answers a unique clash on update with a command error
                    # (code 1) rather than a write error. Re-read what landed, retry the rest.
                    logger.debug("bulk write to %s partly failed: %s", coll.name, self._clean(exc))
                    suspects.extend(chunk)
            if add_to_set and any(p.add_pages for p in plans):
                self._add_to_set_each = True
            landed = {p.doc_id for p in plans}
            if suspects:
                landed -= {p.doc_id for p in suspects}
                landed |= self._landed(coll, suspects)
                for plan in suspects:
                    if plan.doc_id in landed:
                        continue
                    error = self._retry(coll, plan, make_op)
                    if error is None:
                        landed.add(plan.doc_id)
                    else:
                        for index in plan.indices:
                            _fail(summary, docs[index], error)
        except PyMongoError as exc:
            raise StorageError(
                f"{self.describe()}: {coll.name} bulk write: {self._clean(exc)}"
            ) from exc
        for plan in plans:
            if plan.doc_id in landed:
                for outcome in plan.outcomes:
                    setattr(summary, outcome, getattr(summary, outcome) + 1)

    def _landed(self, coll: Any, plans: list[Sighting]) -> set[str]:
        """Ids whose document reached the ``times_seen`` its write sets."""
        expected = {p.doc_id: p.expected_times for p in plans}
        try:
            found = self._find_by_ids(coll, list(expected), {"times_seen": 1})
            return {
                d["_id"] for d in found if count(d.get("times_seen")) >= expected[d["_id"]]
            }
        except PyMongoError as exc:
            raise StorageError(f"{self.describe()}: {coll.name} recheck: {self._clean(exc)}") from exc

    def _retry(self, coll: Any, plan: Sighting, make_op: Any) -> str | None:
        """Write one plan alone; the error message if it truly fails."""
        for _ in range(2):
            add_to_set = self._add_to_set_each is not False
            try:
                coll.bulk_write([make_op(plan, add_to_set)], ordered=True)
            except (BulkWriteError, OperationFailure) as exc:
                if isinstance(exc, BulkWriteError):
                    errors = exc.details.get("writeErrors") or [{}]
                    code, message = errors[0].get("code"), str(errors[0].get("errmsg", ""))
                else:
                    code, message = exc.code, str((exc.details or {}).get("errmsg", exc))
                if _is_duplicate(code, message):
                    return _duplicate_message(message, plan)
                if add_to_set and plan.add_pages and code in _UNSUPPORTED_CODES:
                    logger.info(
                        "%s: no $addToSet $each (%s); merging seen_on client-side",
                        self.describe(),
                        self._scrub(message),
                    )
                    self._add_to_set_each = False
                    continue
                return f"write error {code}: {self._scrub(message)}"
            except PyMongoError as exc:
                raise StorageError(
                    f"{self.describe()}: {coll.name} write: {self._clean(exc)}"
                ) from exc
            if add_to_set and plan.add_pages:
                self._add_to_set_each = True
            return None
        return "write failed"

    # --- dedupe support -----------------------------------------------------------------------

    def find_candidates(
        self,
        collection: str,
        ids: Sequence[str],
        keys: Sequence[int],
        *,
        fields: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """See ``Store.find_candidates``: the ids as ``_find_by_ids`` reads them, the keys by
        ``$in`` on the ``dedupe_keys`` index, one ``find`` per slice."""
        if collection not in ("articles", "feed_snippets"):
            raise ConfigError(f"collection {collection!r} has no dedupe_keys")
        coll = self._coll(collection)
        projection = {f: 1 for f in fields} if fields is not None else None
        key_list = sorted({int(k) for k in keys})
        found: dict[str, dict[str, Any]] = {}
        try:
            for doc in self._find_by_ids(coll, ids, projection):
                found[doc["_id"]] = doc
            for start in range(0, len(key_list), _IN_SLICE):
                for doc in coll.find({"dedupe_keys": {"$in": key_list[start : start + _IN_SLICE]}}, projection):
                    found[doc["_id"]] = doc
        except PyMongoError as exc:
            raise StorageError(f"{self.describe()}: {collection} candidates: {self._clean(exc)}") from exc
        return list(found.values())

    def update_fields(
        self, collection: str, updates: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> WriteSummary:
        """See ``Store.update_fields``: ``$set`` per document, bulk, re-done one by one on error."""
        summary = WriteSummary()
        coll = self._coll(collection)
        ops: list[tuple[str, dict[str, Any]]] = []
        for doc_id, fields in updates:
            try:
                if "_id" in fields:
                    raise DocumentError("_id cannot be changed")
                validate_document({"_id": doc_id, **fields})
            except DocumentError as exc:
                _fail(summary, {"_id": doc_id}, str(exc))
                continue
            if fields:
                ops.append((doc_id, dict(fields)))
            else:
                summary.updated += 1
        try:
            for start in range(0, len(ops), self._chunk):
                chunk = ops[start : start + self._chunk]
                try:
                    result = coll.bulk_write(
                        [UpdateOne({"_id": i}, {"$set": f}) for i, f in chunk], ordered=False
                    )
                except (BulkWriteError, OperationFailure) as exc:
                    # FerretDB stops at the first failing statement: redo each alone ($set is
                    # idempotent) and count what each did.
                    logger.debug("update of %s partly failed: %s", coll.name, self._clean(exc))
                    for doc_id, fields in chunk:
                        try:
                            one = coll.update_one({"_id": doc_id}, {"$set": fields})
                        except OperationFailure as one_exc:
                            message = str((one_exc.details or {}).get("errmsg", one_exc))
                            _fail(summary, {"_id": doc_id}, f"write error {one_exc.code}: "
                                  f"{self._scrub(message)}")
                            continue
                        if one.matched_count:
                            summary.updated += 1
                        else:
                            _fail(summary, {"_id": doc_id}, "no such document")
                    continue
                if result.matched_count == len(chunk):
                    summary.updated += len(chunk)
                    continue
                present = {d["_id"] for d in self._find_by_ids(coll, [i for i, _ in chunk], {"_id": 1})}
                for doc_id, _ in chunk:
                    if doc_id in present:
                        summary.updated += 1
                    else:
                        _fail(summary, {"_id": doc_id}, "no such document")
        except PyMongoError as exc:
            raise StorageError(f"{self.describe()}: {coll.name} update: {self._clean(exc)}") from exc
        return summary

    def insert_documents(self, collection: str, docs: Sequence[Mapping[str, Any]]) -> WriteSummary:
        """See ``Store.insert_documents``: unordered ``insert_many`` (inserts keep going past an
        error on MongoDB and FerretDB alike)."""
        summary = WriteSummary()
        coll = self._coll(collection)
        valid: list[dict[str, Any]] = []
        for doc in docs:
            try:
                validate_document(doc)
            except DocumentError as exc:
                _fail(summary, doc, str(exc))
                continue
            valid.append(dict(doc))
        if not valid:
            return summary
        try:
            for start in range(0, len(valid), self._chunk):
                chunk = valid[start : start + self._chunk]
                try:
                    coll.insert_many(chunk, ordered=False)
                    summary.inserted += len(chunk)
                except BulkWriteError as exc:
                    failed = {e.get("index"): e for e in exc.details.get("writeErrors") or []}
                    for index, doc in enumerate(chunk):
                        error = failed.get(index)
                        if error is None:
                            summary.inserted += 1
                        elif error.get("code") == 11000:
                            _fail(summary, doc, "duplicate _id")
                        else:
                            _fail(summary, doc, f"write error {error.get('code')}: "
                                  f"{self._scrub(str(error.get('errmsg', '')))}")
        except PyMongoError as exc:
            raise StorageError(f"{self.describe()}: {coll.name} insert: {self._clean(exc)}") from exc
        return summary

    def replace_documents(self, collection: str, docs: Sequence[Mapping[str, Any]]) -> WriteSummary:
        """See ``Store.replace_documents``: ``ReplaceOne(upsert=True)`` in unordered slices."""
        from pymongo import ReplaceOne

        summary = WriteSummary()
        coll = self._coll(collection)
        valid: dict[str, dict[str, Any]] = {}
        for doc in docs:
            try:
                validate_document(doc)
            except DocumentError as exc:
                _fail(summary, doc, str(exc))
                continue
            valid[doc["_id"]] = dict(doc)  # the last of several same-id documents wins
        if not valid:
            return summary
        try:
            existing = {d["_id"] for d in self._find_by_ids(coll, list(valid), {"_id": 1})}
            items = list(valid.items())
            for start in range(0, len(items), self._chunk):
                chunk = items[start : start + self._chunk]
                ops = [ReplaceOne({"_id": doc_id}, doc, upsert=True) for doc_id, doc in chunk]
                try:
                    coll.bulk_write(ops, ordered=False)
                    failed: set[str] = set()
                except (BulkWriteError, OperationFailure):
                    # Counts are not trusted (FerretDB stops at the first error): retry one by one.
                    failed = set()
                    for doc_id, doc in chunk:
                        try:
                            coll.replace_one({"_id": doc_id}, doc, upsert=True)
                        except OperationFailure as exc:
                            failed.add(doc_id)
                            _fail(summary, doc, f"write error {exc.code}: {self._scrub(str(exc))}")
                for doc_id, _doc in chunk:
                    if doc_id in failed:
                        continue
                    if doc_id in existing:
                        summary.updated += 1
                    else:
                        summary.inserted += 1
        except PyMongoError as exc:
            raise StorageError(f"{self.describe()}: {coll.name} replace: {self._clean(exc)}") from exc
        return summary

    def delete(self, collection: str, filter: Mapping[str, Any]) -> int:
        """See ``Store.delete``."""
        query = _check_filter(filter)
        try:
            return int(self._coll(collection).delete_many(query).deleted_count)
        except PyMongoError as exc:
            raise StorageError(f"{self.describe()}: delete in {collection}: {self._clean(exc)}") from exc

    # --- runs ---------------------------------------------------------------------------------

    def insert_run(self, run: Mapping[str, Any]) -> None:
        """Insert a crawl run; a duplicate ``_id`` or bad value raises StorageError."""
        try:
            validate_document(run)
        except DocumentError as exc:
            raise StorageError(f"crawl run {run.get('_id')!r}: {exc}") from exc
        try:
            self._coll("crawl_runs").insert_one(dict(run))
        except PyMongoError as exc:
            raise StorageError(f"{self.describe()}: crawl run {run.get('_id')!r}: {self._clean(exc)}") from exc

    def update_run(self, run_id: str, fields: Mapping[str, Any]) -> None:
        """Set top-level fields of a crawl run (a missing run is logged, not an error)."""
        try:
            if "_id" in fields:
                raise DocumentError("_id cannot be changed")
            validate_document({"_id": run_id, **fields})
        except DocumentError as exc:
            raise StorageError(f"crawl run {run_id!r}: {exc}") from exc
        if not fields:
            return
        try:
            result = self._coll("crawl_runs").update_one({"_id": run_id}, {"$set": dict(fields)})
        except PyMongoError as exc:
            raise StorageError(f"{self.describe()}: crawl run {run_id!r}: {self._clean(exc)}") from exc
        if result.matched_count == 0:
            logger.warning("update_run: no crawl run %r in %s", run_id, self.describe())

    # --- queries ------------------------------------------------------------------------------

    def find(
        self,
        collection: str,
        filter: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int = 0,
    ) -> Iterator[dict[str, Any]]:
        """Yield matching documents; datetimes come back aware UTC."""
        query = _check_filter(filter)
        for name, direction in sort:
            _check_field(name)
            if direction not in (1, -1):
                raise ConfigError(f"sort {name!r}: direction must be 1 or -1, got {direction!r}")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise ConfigError(f"limit must be an int >= 0, got {limit!r}")
        cursor = self._coll(collection).find(query, sort=list(sort) or None, limit=limit)
        return self._iterate(cursor, collection)

    def _iterate(self, cursor: Any, collection: str) -> Iterator[dict[str, Any]]:
        try:
            yield from cursor
        except PyMongoError as exc:
            raise StorageError(f"{self.describe()}: find in {collection}: {self._clean(exc)}") from exc
        finally:
            cursor.close()

    def count(self, collection: str, filter: Mapping[str, Any] | None = None) -> int:
        """Count matching documents."""
        query = _check_filter(filter)
        try:
            return int(self._coll(collection).count_documents(query))
        except PyMongoError as exc:
            raise StorageError(f"{self.describe()}: count in {collection}: {self._clean(exc)}") from exc


# --- helpers ----------------------------------------------------------------------------------


def _check_field(name: object) -> None:
    if not isinstance(name, str) or not name or name.startswith("$") or "." in name:
        raise ConfigError(f"filter/sort field {name!r}: only top-level field names are allowed")


def _check_filter(filter: Mapping[str, Any] | None) -> dict[str, Any]:
    """The filter as a dict, if it keeps to base.py's language (else ConfigError)."""
    if not filter:
        return {}
    if not isinstance(filter, Mapping):
        raise ConfigError(f"filter must be a mapping, got {type(filter).__name__}")
    for name, spec in filter.items():
        _check_field(name)
        if isinstance(spec, Mapping) and any(str(k).startswith("$") for k in spec):
            for op, value in spec.items():
                if op not in _FILTER_OPERATORS:
                    raise ConfigError(
                        f"filter {name!r}: unsupported operator {op!r} "
                        "(supported: equality, $gt $gte $lt $lte $in $ne)"
                    )
                if op == "$in" and not isinstance(value, (list, tuple)):
                    raise ConfigError(f"filter {name!r}: $in needs a list")
    return dict(filter)


def _is_duplicate(code: object, message: str) -> bool:
    """A unique-index clash: 11000 on MongoDB (and FerretDB inserts); code 1 on FerretDB updates."""
    lowered = message.lower()
    return code == 11000 or (
        code == 1 and ("duplicate key" in lowered or "unique constraint" in lowered)
    )


def _duplicate_message(message: str, plan: Sighting) -> str:
    doc = plan.insert or plan.set_fields
    if "url" in message:
        return f"duplicate url {doc.get('url')!r} (held by another article)"
    # FerretDB's E11000 message names no index; our prefetch already ruled out the _id
    # unless another writer raced us.
    return f"duplicate key: url {doc.get('url')!r} or _id already stored"


def _fail(summary: WriteSummary, doc: Mapping[str, Any], message: str) -> None:
    summary.failed += 1
    summary.errors.append((str(doc.get("_id")), message))
