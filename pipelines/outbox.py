"""The alert outbox: every alert is pending until its sink confirms it, and retried until then.

One ``alert_outbox`` document per (topic flag, sink), written on the store thread right after the
flag is recorded as new, before the alert is handed to the sink. The sink reports each delivery;
a confirmed one becomes ``sent`` (never sent again by newsmon), a failed one stays ``pending``
with ``attempts`` +1 and ``next_attempt_at`` pushed back (``ALERT_OUTBOX_BACKOFF`` seconds,
doubled per attempt, at most a day). Every crawl, ``newsmon import-spool`` and so every scheduler
tick retries the pending alerts that are due; one older than ``ALERT_OUTBOX_EXPIRE_HOURS`` is
``expired`` instead (counted, listed by ``newsmon alerts``). An alert a sink received but whose
confirmation was lost (the process was killed in between) is sent again: receivers can tell by
the alert's ``_id``.

Document::

    _id              "<flag _id>@<sink>"
    flag_id, sink    the topic flag and the sink (log, jsonl, webhook)
    payload          the flag document as it was alerted
    status           pending | sent | expired
    attempts         deliveries tried; last_error: why the last one failed
    created_at, next_attempt_at, sent_at   (UTC)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.storage.base import Store

__all__ = ["COLLECTION", "STATUSES", "due_alerts", "mark_results", "outbox_id", "record_pending"]

COLLECTION = "alert_outbox"
STATUSES = ("pending", "sent", "expired")
_MAX_BACKOFF = timedelta(days=1)


def outbox_id(flag_id: str, sink: str) -> str:
    return f"{flag_id}@{sink}"


def record_pending(store: Store, flags: Sequence[dict[str, Any]], sinks: Iterable[str],
                   now: datetime | None = None) -> None:
    """One pending entry per new flag and sink (an entry that exists already is left alone)."""
    now = now or datetime.now(UTC)
    docs = [{"_id": outbox_id(flag["_id"], sink), "flag_id": flag["_id"], "sink": sink, "payload": flag,
             "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
            for flag in flags for sink in sinks]
    if docs:
        store.insert_documents(COLLECTION, docs)


def due_alerts(store: Store, sinks: Iterable[str], now: datetime | None = None) -> list[dict[str, Any]]:
    """Pending entries of these sinks whose next attempt is due, oldest first."""
    now = now or datetime.now(UTC)
    wanted = list(sinks)
    if not wanted:
        return []
    return list(store.find(COLLECTION, {"status": "pending", "sink": {"$in": wanted},
                                        "next_attempt_at": {"$lte": now}}, sort=[("created_at", 1)]))


def mark_results(store: Store, results: Sequence[tuple[str, bool, str | None]], backoff: float,
                 expire_after: timedelta, now: datetime | None = None) -> dict[str, int]:
    """Record deliveries ``(outbox _id, delivered, reason)``; counts of sent / retry / expired."""
    now = now or datetime.now(UTC)
    counts = {"sent": 0, "retry": 0, "expired": 0}
    if not results:
        return counts
    ids = [r[0] for r in results]
    current = {d["_id"]: d for d in store.find(COLLECTION, {"_id": {"$in": ids}})}
    updates = []
    for doc_id, delivered, reason in results:
        doc = current.get(doc_id)
        if doc is None or doc.get("status") != "pending":
            continue
        attempts = int(doc.get("attempts") or 0) + 1
        if delivered:
            updates.append((doc_id, {"status": "sent", "attempts": attempts, "sent_at": now, "last_error": None}))
            counts["sent"] += 1
            continue
        created = doc.get("created_at") or now
        if now - created >= expire_after:
            updates.append((doc_id, {"status": "expired", "attempts": attempts, "last_error": reason}))
            counts["expired"] += 1
            continue
        wait = min(timedelta(seconds=backoff * 2 ** (attempts - 1)), _MAX_BACKOFF)
        updates.append((doc_id, {"attempts": attempts, "last_error": reason, "next_attempt_at": now + wait}))
        counts["retry"] += 1
    if updates:
        store.update_fields(COLLECTION, updates)
    return counts
