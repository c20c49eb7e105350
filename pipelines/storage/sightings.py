"""The repeat-sighting rules of articles and snippets, written once for every backend.

A batch of documents and what the store already holds of their ids (``known``: ``content_hash``,
``times_seen``, ``seen_on``) become one ``Sighting`` per ``_id``: the write that id needs. The
backends only carry it out (``MongoStore`` as ``InsertOne``/``UpdateOne`` with ``$max``/``$min``/
``$inc``/``$addToSet``, ``SqliteStore`` as a read-modify-write in one transaction).

- Article, new ``_id``: inserted with ``first_seen = last_seen = fetched_at``, ``times_seen = 1``.
  Known with the same ``content_hash``: ``last_seen`` (max) and ``times_seen`` (+1) only
  (``unchanged``); with another hash: every given field replaced, ``first_seen`` kept
  (``updated``). Several documents of one ``_id`` in a batch apply in order.
- Snippet: new -> inserted with its ``seen_on`` (capped at ``seen_on_max``); known -> ``seen_on``
  gains the new pages (set union, capped), ``times_seen`` +1, ``last_seen`` max, ``first_seen``
  min, other fields untouched (``updated`` if ``seen_on`` grew, else ``unchanged``).

Sighting times are ``fetched_at`` (now, when missing) as aware UTC truncated to milliseconds, as
BSON stores them, so every backend keeps the same values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["BOOKKEEPING", "Sighting", "count", "plan_articles", "plan_snippets", "seen_time", "union"]

# Fields the rules maintain themselves; incoming values for them are ignored.
BOOKKEEPING = ("_id", "first_seen", "last_seen", "times_seen")
# (position in the batch, _id, sighting time, document)
Valid = tuple[int, str, datetime, Mapping[str, Any]]


@dataclass
class Sighting:
    """The one write a batch makes for one ``_id`` (several same-id documents merge here)."""

    doc_id: str
    indices: list[int] = field(default_factory=list)  # positions of the batch's documents
    outcomes: list[str] = field(default_factory=list)  # per document, if the write lands
    insert: dict[str, Any] | None = None  # the whole document, for a new _id
    set_fields: dict[str, Any] = field(default_factory=dict)
    add_pages: list[Any] = field(default_factory=list)  # snippet seen_on additions
    union: list[Any] = field(default_factory=list)  # snippet seen_on after the write
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    inc: int = 0
    expected_times: int = 0  # times_seen once the write has landed

    def row(self, before: Mapping[str, Any] | None) -> dict[str, Any]:
        """The whole document after this write, from ``before`` (None for an insert): for
        backends that write whole documents."""
        if self.insert is not None:
            row = dict(self.insert)
            if self.union or "seen_on" in row:
                row["seen_on"] = self.union
            row.setdefault("first_seen", self.first_seen)
            row["last_seen"], row["times_seen"] = self.last_seen, self.inc
            return row
        assert before is not None
        row = {**before, **self.set_fields}
        if self.add_pages:
            row["seen_on"] = self.union
        first, last = _time(before.get("first_seen")), _time(before.get("last_seen"))
        if self.first_seen is not None:
            row["first_seen"] = min(first, self.first_seen) if first else self.first_seen
        row["last_seen"] = max(last, self.last_seen) if last and self.last_seen else self.last_seen or last
        row["times_seen"] = count(before.get("times_seen")) + self.inc
        return row


def seen_time(doc: Mapping[str, Any]) -> datetime:
    """The sighting time of a document: ``fetched_at`` (now if missing), aware UTC, milliseconds.
    Raises ``TypeError`` if ``fetched_at`` is not a datetime."""
    seen = doc.get("fetched_at") or datetime.now(UTC)
    if not isinstance(seen, datetime):
        raise TypeError(f"fetched_at must be a datetime, got {type(seen).__name__}")
    seen = seen.replace(tzinfo=UTC) if seen.tzinfo is None else seen.astimezone(UTC)
    return seen.replace(microsecond=seen.microsecond // 1000 * 1000)


def plan_articles(valid: Sequence[Valid], known: Mapping[str, Mapping[str, Any]]) -> list[Sighting]:
    """The writes of a batch of articles (see the module docstring)."""
    plans: dict[str, Sighting] = {}
    hashes: dict[str, Any] = {}  # content_hash as of the running batch
    for index, doc_id, seen, doc in valid:
        fields = {k: v for k, v in doc.items() if k not in BOOKKEEPING}
        plan = plans.get(doc_id)
        if plan is None:
            plan = plans[doc_id] = Sighting(doc_id)
            old = known.get(doc_id)
            if old is None:
                plan.insert = {"_id": doc_id, **fields, "first_seen": seen}
                plan.outcomes.append("inserted")
                hashes[doc_id] = fields.get("content_hash")
                plan.indices.append(index)
                plan.last_seen, plan.inc = seen, 1
                continue
            hashes[doc_id] = old.get("content_hash")
            plan.expected_times = count(old.get("times_seen"))
        if fields.get("content_hash") == hashes[doc_id]:
            plan.outcomes.append("unchanged")
        else:
            plan.outcomes.append("updated")
            hashes[doc_id] = fields.get("content_hash")
            if plan.insert is not None:
                plan.insert.update(fields)
            else:
                plan.set_fields.update(fields)
        plan.indices.append(index)
        plan.last_seen = seen if plan.last_seen is None else max(plan.last_seen, seen)
        plan.inc += 1
    for plan in plans.values():
        plan.expected_times += plan.inc
    return list(plans.values())


def plan_snippets(valid: Sequence[Valid], known: Mapping[str, Mapping[str, Any]],
                  seen_on_max: int) -> list[Sighting]:
    """The writes of a batch of snippets (see the module docstring)."""
    plans: dict[str, Sighting] = {}
    for index, doc_id, seen, doc in valid:
        pages = list(doc.get("seen_on") or [])
        plan = plans.get(doc_id)
        if plan is None:
            plan = plans[doc_id] = Sighting(doc_id)
            old = known.get(doc_id)
            if old is None:
                fields = {k: v for k, v in doc.items() if k not in BOOKKEEPING}
                plan.union = union([], pages, seen_on_max)
                plan.insert = {"_id": doc_id, **fields}
                plan.outcomes.append("inserted")
                plan.indices.append(index)
                plan.first_seen = plan.last_seen = seen
                plan.inc = 1
                continue
            before = old.get("seen_on")
            plan.union = list(before) if isinstance(before, list) else []
            plan.expected_times = count(old.get("times_seen"))
        grown = union(plan.union, pages, seen_on_max)
        added = grown[len(plan.union):]
        plan.outcomes.append("updated" if added else "unchanged")
        plan.union = grown
        if plan.insert is None:
            plan.add_pages.extend(added)
        plan.indices.append(index)
        plan.first_seen = seen if plan.first_seen is None else min(plan.first_seen, seen)
        plan.last_seen = seen if plan.last_seen is None else max(plan.last_seen, seen)
        plan.inc += 1
    for plan in plans.values():
        plan.expected_times += plan.inc
    return list(plans.values())


def count(value: Any) -> int:
    """A stored counter (0 for anything that is not an int)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def union(before: list[Any], pages: Sequence[Any], cap: int) -> list[Any]:
    """``before`` plus the new ``pages`` not in it, in order, while fewer than ``cap``."""
    out = list(before)
    for page in pages:
        if len(out) >= cap:
            break
        if page not in out:
            out.append(page)
    return out


def _time(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None
