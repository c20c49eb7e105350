"""What was fetched, per URL: the validators and dates that let a re-crawl skip unchanged pages.

The ``fetch_state`` collection of the one store (``Store``), read once per site when a crawl opens
and written in one batch when it closes; every run and worker of a site shares it.

A state is a dict with ``url`` (canonical), ``site``, ``kind`` (article, listing, feed, sitemap),
``etag``, ``last_modified`` (the HTTP validators as received), ``source_date`` (the newest
sitemap ``lastmod`` / feed date seen for it), ``published``, ``checked_at`` (last fetch attempt)
and ``changed_at`` (last time its content was new or different); for an article page that gave
no article, ``unextracted`` (how many fetches in a row) and ``recheck_after`` (when it is fetched
again). Its ``_id`` is ``state_key``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.storage.base import Store

__all__ = ["FIELDS", "load_fetch_state", "save_fetch_state", "state_documents", "state_key"]

FIELDS = ("url", "site", "kind", "etag", "last_modified", "source_date", "published",
          "checked_at", "changed_at", "unextracted", "recheck_after")
_DATES = ("source_date", "published", "checked_at", "changed_at", "recheck_after")
COLLECTION = "fetch_state"


def state_key(site: str, url: str) -> str:
    return hashlib.sha256(f"{site}\n{url}".encode()).hexdigest()[:32]


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def load_fetch_state(store: Store, site: str) -> dict[str, dict[str, Any]]:
    """Every known state of ``site``, by URL."""
    states = {}
    for doc in store.find(COLLECTION, {"site": site}):
        state = {name: doc.get(name) for name in FIELDS}
        for name in _DATES:
            state[name] = _utc(state[name])
        states[state["url"]] = state
    return states


def state_documents(states: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The stored documents of some states (``_id`` = ``state_key``)."""
    return [{"_id": state_key(s["site"], s["url"]), **{name: s.get(name) for name in FIELDS}}
            for s in states]


def save_fetch_state(store: Store, states: Iterable[Mapping[str, Any]]) -> int:
    """Insert or replace states (keyed on site + url); returns how many were written."""
    summary = store.replace_documents(COLLECTION, state_documents(states))
    return summary.inserted + summary.updated
