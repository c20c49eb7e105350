"""The storage interface every backend implements (MongoDB via pymongo, embedded SQLite).

All methods block: callers on the reactor thread run them in a worker thread
(see ``pipelines.store``). Documents are plain dicts whose values are JSON-like plus
``datetime`` (always timezone-aware UTC when read back). Every backend passes the same contract
tests in ``tests/test_storage_contract.py``.

Collections and keys (documented field by field in README.md, "Schema"):

- ``articles``: ``_id`` = article id (hash of the canonical URL), unique ``url``.
- ``feed_snippets``: ``_id`` = snippet fingerprint (hash of site + normalized text).
- ``crawl_runs``: ``_id`` = run id.
- ``article_revisions``: ``_id`` = ``<article id>:<revision>``; previous versions of edited
  articles with what changed (``pipelines.dedupe``), indexed on ``(article_id, revision)``.
- ``topic_flags``: ``_id`` = ``<item id>:<topic>``; one document per flagged (item, topic), indexed
  on ``(topic, flagged_at)`` and ``flagged_at``; its rules live in ``pipelines.storage.flags``.
- ``fetch_state``: ``_id`` = hash of site + URL; what a re-crawl needs to skip unchanged pages,
  indexed on ``site``; its rules live in ``pipelines.storage.fetchstate``.
- ``alert_outbox``: ``_id`` = ``<flag _id>@<sink>``; each alert until its sink confirmed it,
  indexed on ``(status, next_attempt_at)``; its rules live in ``pipelines.outbox``.

One process opens one store (``pipelines.storage.service``): one client or connection, indexes
ensured once. The rules above the collections (repeat sightings, flags, fetch state) are written
once, above the backends; the backends only map these calls to their database.

Articles and snippets may carry ``dedupe_keys``, a list of int64 lookup keys (content hash,
alias URLs, MinHash LSH bands; see ``pipelines.dedupe``), indexed so ``find_candidates`` answers
from the index, never by scanning the collection.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COLLECTIONS", "KEYED_COLLECTIONS", "Store", "WriteSummary"]

COLLECTIONS = ("articles", "feed_snippets", "crawl_runs", "article_revisions", "topic_flags", "fetch_state",
               "alert_outbox")
# Collections whose documents may carry indexed ``dedupe_keys``.
KEYED_COLLECTIONS = ("articles", "feed_snippets")


@dataclass
class WriteSummary:
    """What one bulk upsert did, per document."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    # (document _id, error message) for each failed document; messages never carry credentials.
    errors: list[tuple[str, str]] = field(default_factory=list)

    def __iadd__(self, other: WriteSummary) -> WriteSummary:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.failed += other.failed
        self.errors.extend(other.errors)
        return self


class Store(ABC):
    """A document store holding newsmon's collections (``COLLECTIONS``)."""

    @abstractmethod
    def open(self) -> None:
        """Connect (or open the file) and create the collections' indexes; idempotent."""

    @abstractmethod
    def close(self) -> None:
        """Release connections and file handles; idempotent."""

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, safe to log (credentials masked)."""

    @abstractmethod
    def upsert_articles(self, docs: Sequence[Mapping[str, Any]]) -> WriteSummary:
        """Insert or update articles keyed on ``_id``.

        New ``_id``: inserted with ``first_seen = last_seen = fetched_at`` and ``times_seen = 1``.
        Known ``_id`` with the same ``content_hash``: only ``last_seen`` (max) and ``times_seen``
        (+1) change -> ``unchanged``. Known ``_id`` with another ``content_hash``: every given
        field is replaced (``first_seen`` kept), ``last_seen``/``times_seen`` as above ->
        ``updated``. A document that fails (unique ``url`` clash, unencodable value) is counted in
        ``failed``/``errors`` and never stops the others from landing.
        """

    @abstractmethod
    def upsert_snippets(self, docs: Sequence[Mapping[str, Any]]) -> WriteSummary:
        """Insert or merge News Feed snippets keyed on ``_id`` (the fingerprint).

        New: inserted with ``first_seen = last_seen = fetched_at``, ``times_seen = 1`` and
        ``seen_on`` = the document's ``seen_on`` list. Known: ``seen_on`` gains the new pages (set
        union, capped at ``seen_on_max`` entries), ``times_seen`` +1, ``last_seen`` max,
        ``first_seen`` min -> ``updated`` if ``seen_on`` grew, else ``unchanged``; other fields
        untouched. Several documents with one ``_id`` in a batch are merged first.
        """

    @abstractmethod
    def find_candidates(
        self,
        collection: str,
        ids: Sequence[str],
        keys: Sequence[int],
        *,
        fields: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Documents of ``articles``/``feed_snippets`` whose ``_id`` is in ``ids`` or whose
        ``dedupe_keys`` hold one of ``keys``, each once; with ``fields``, only those top-level
        fields (and ``_id``). Answered from the ``_id`` and ``dedupe_keys`` indexes."""

    @abstractmethod
    def update_fields(
        self, collection: str, updates: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> WriteSummary:
        """Set top-level fields of existing documents (``(_id, fields)`` pairs) -> ``updated``;
        an unknown ``_id`` or a bad value fails that pair alone."""

    @abstractmethod
    def insert_documents(self, collection: str, docs: Sequence[Mapping[str, Any]]) -> WriteSummary:
        """Insert whole documents (``_id`` given) -> ``inserted``; a duplicate ``_id`` or a bad
        value fails that document alone."""

    @abstractmethod
    def replace_documents(self, collection: str, docs: Sequence[Mapping[str, Any]]) -> WriteSummary:
        """Insert (``inserted``) or wholly replace (``updated``) documents keyed on ``_id``; a bad
        value fails that document alone. Replaying the same call twice leaves the same state."""

    @abstractmethod
    def delete(self, collection: str, filter: Mapping[str, Any]) -> int:
        """Delete the documents matching ``filter`` (the ``find`` language); their number."""

    @abstractmethod
    def insert_run(self, run: Mapping[str, Any]) -> None:
        """Record a crawl run document (``_id`` given by the caller)."""

    @abstractmethod
    def update_run(self, run_id: str, fields: Mapping[str, Any]) -> None:
        """Set top-level fields of a crawl run document."""

    @abstractmethod
    def find(
        self,
        collection: str,
        filter: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int = 0,
    ) -> Iterator[dict[str, Any]]:
        """Yield documents of a collection.

        ``filter`` is a MongoDB filter restricted to top-level fields: equality, and the
        operators ``$gt $gte $lt $lte $in $ne`` (values may be datetimes). ``sort`` is a list of
        ``(field, 1 | -1)``; ``limit`` 0 means no limit.
        """

    @abstractmethod
    def count(self, collection: str, filter: Mapping[str, Any] | None = None) -> int:
        """Count documents matching ``filter`` (same language as ``find``)."""

    def __enter__(self) -> Store:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
