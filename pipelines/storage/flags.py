"""The ``topic_flags`` collection's rules, over the one storage interface (``Store``).

Consumers poll it ("topic X since T", newest first) or watch it with a change stream (MongoDB);
the store pipeline learns from ``record_flags`` which flags are new, and only those are alerted.

Document (schema_version 1)::

    _id           "<item_id>:<topic>"
    item_id       the stored document it flags: article or snippet ``_id`` (always stored first)
    kind          "article" | "snippet"
    site, topic, title, url, published
    score         the score when first flagged; last_score: the latest one seen
    threshold     the topic's min_score when first flagged
    terms         [{term, count, field, context, matched, weight}]  (objects: no nested arrays)
    flagged_at    first time flagged (UTC); updated_at: last time seen
    schema_version 1

A flag is inserted only when its score reaches its threshold; later sightings only update
``last_score``/``updated_at``. So ``record_flags`` returns each (item, topic) once, the first time
it crosses the threshold: that is what gets alerted, and a revision never re-alerts. Two crawls
recording the same flag at once: the insert of one fails on the duplicate ``_id``, so it is new
for exactly one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.storage.base import Store
    from pipelines.storage.config import StoreConfig

__all__ = ["FLAG_SCHEMA_VERSION", "FlagView", "find_flags", "flag_id", "open_flag_store", "record_flags"]

FLAG_SCHEMA_VERSION = 1
COLLECTION = "topic_flags"
Clock = Callable[[], datetime]


def flag_id(item_id: str, topic: str) -> str:
    """The key of one (item, topic) flag."""
    return f"{item_id}:{topic}"


def _ms(value: datetime) -> datetime:
    """Aware UTC, truncated to milliseconds like BSON, so both backends return equal values."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def record_flags(store: Store, flags: Sequence[dict[str, Any]], now: datetime | None = None) -> list[dict[str, Any]]:
    """Store flags; return the documents flagged for the first time (the ones to alert).

    Each flag needs ``item_id``, ``topic``, ``score`` and ``threshold``; this sets ``_id``,
    ``flagged_at``, ``updated_at``, ``last_score`` and ``schema_version``. A flag below its
    threshold only updates an existing document. Raises ``StorageError`` when the store refuses
    the batch as a whole (the caller journals the flags; recording them again is harmless).
    """
    if not flags:
        return []
    now = _ms(now or datetime.now(UTC))
    latest: dict[str, dict[str, Any]] = {}
    for flag in flags:  # the last sighting in a batch wins
        latest[flag_id(flag["item_id"], flag["topic"])] = flag
    existing = {d["_id"] for d in store.find(COLLECTION, {"_id": {"$in": list(latest)}})}
    new_docs, updates = [], []
    for _id, flag in latest.items():
        if _id in existing:
            updates.append((_id, {"last_score": float(flag["score"]), "updated_at": now}))
        elif flag["score"] >= flag["threshold"]:
            doc = {k: v for k, v in flag.items() if k != "_id"}
            doc.update(_id=_id, flagged_at=now, updated_at=now, last_score=flag["score"],
                       schema_version=FLAG_SCHEMA_VERSION)
            if isinstance(doc.get("published"), datetime):
                doc["published"] = _ms(doc["published"])
            new_docs.append(doc)
    inserted = store.insert_documents(COLLECTION, new_docs) if new_docs else None
    refused = {doc_id for doc_id, _ in inserted.errors} if inserted else set()
    if updates:
        store.update_fields(COLLECTION, updates)
    return [d for d in new_docs if d["_id"] not in refused]


def find_flags(store: Store, topic: str | None = None, since: datetime | None = None,
               limit: int = 0) -> list[dict[str, Any]]:
    """Flags (of ``topic``, first flagged at or after ``since``), newest first."""
    query: dict[str, Any] = {}
    if topic:
        query["topic"] = topic
    if since is not None:
        query["flagged_at"] = {"$gte": _ms(since)}
    return list(store.find(COLLECTION, query, sort=[("flagged_at", -1), ("_id", 1)], limit=max(limit, 0)))


class FlagView:
    """``topic_flags`` of one store, for readers such as ``newsmon flags`` (``with`` opens it)."""

    def __init__(self, store: Store, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))

    def open(self) -> None:
        self.store.open()

    def close(self) -> None:
        self.store.close()

    def describe(self) -> str:
        return f"{self.store.describe()} collection {COLLECTION!r}"

    def record(self, flags: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return record_flags(self.store, flags, self.clock())

    def find(self, topic: str | None = None, since: datetime | None = None,
             limit: int = 0) -> list[dict[str, Any]]:
        return find_flags(self.store, topic, since, limit)

    def __enter__(self) -> FlagView:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_flag_store(config: StoreConfig, clock: Clock | None = None) -> FlagView:
    """The flags of the configured store, not yet opened."""
    return FlagView(config.create(), clock)
