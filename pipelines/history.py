"""``newsmon history URL``: an article as it is now, and how it got there, newest edit first."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipelines.dedupe import url_key
from pipelines.store import article_id
from pipelines.urls import canonical_url

if TYPE_CHECKING:
    from pipelines.storage.base import Store

__all__ = ["article_history", "format_history"]

_CURRENT = ("_id", "url", "site", "title", "published", "first_seen", "last_seen", "updated_at",
            "revision", "times_seen", "aliases", "word_count")


def _find_article(store: Store, url: str) -> dict[str, Any] | None:
    canonical = canonical_url(url)
    found = store.find_candidates("articles", [article_id(canonical)], [url_key(canonical)])
    exact = [d for d in found if d.get("url") == canonical]
    return (exact or found or [None])[0]


def article_history(store: Store, url: str) -> dict[str, Any] | None:
    """The article at ``url`` (any spelling, or an alias URL): its current summary and its
    revisions newest first, each with time, revision number and what changed; None if unknown."""
    doc = _find_article(store, url)
    if doc is None:
        return None
    current = {k: doc.get(k) for k in _CURRENT}
    current["revision"] = int(doc.get("revision") or 1)
    revisions = [{
        "revision": current["revision"],
        "time": doc.get("updated_at") or doc.get("first_seen"),
        "title": doc.get("title"),
        "current": True,
        "changes": None,
    }]
    stored = store.find("article_revisions", {"article_id": doc["_id"]}, sort=[("revision", -1)])
    newer: dict[str, Any] = revisions[0]
    for old in stored:
        # Revision n's "changes" say what revision n+1 changed; shown on the newer entry.
        newer["changes"] = old.get("changes")
        if newer.get("current"):
            newer["time"] = old.get("replaced_at") or newer["time"]
        entry = {
            "revision": int(old.get("revision") or 0),
            "time": old.get("valid_from"),
            "title": old.get("title"),
            "current": False,
            "changes": None,
        }
        revisions.append(entry)
        newer = entry
    return {"article": current, "revisions": revisions}


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if isinstance(value, datetime) else "-"


def format_history(history: dict[str, Any]) -> str:
    """Plain text for a terminal: the article, then each revision and what it changed."""
    doc = history["article"]
    lines = [
        f"{doc.get('title')}",
        f"  {doc.get('url')}  ({doc.get('site')})",
        f"  revision {doc.get('revision')}, first seen {_when(doc.get('first_seen'))}, "
        f"last seen {_when(doc.get('last_seen'))}, fetched {doc.get('times_seen') or 0} time"
        f"{'' if doc.get('times_seen') == 1 else 's'}",
    ]
    for alias in doc.get("aliases") or []:
        lines.append(f"  also at {alias.get('url')} ({alias.get('site')}, {alias.get('kind')}, "
                     f"similarity {alias.get('similarity')})")
    lines.append("")
    for rev in history["revisions"]:
        label = "current" if rev.get("current") else "earlier"
        lines.append(f"revision {rev['revision']} ({label}) - {_when(rev.get('time'))}: {rev.get('title')}")
        changes = rev.get("changes")
        if not changes:
            if rev["revision"] == 1:
                lines.append("  first version")
            continue
        lines.append(f"  {changes.get('summary')}")
        if changes.get("title"):
            lines.append(f"  title: {changes['title'].get('from')!r} -> {changes['title'].get('to')!r}")
        for text in changes.get("added") or []:
            lines.append(f"  + {text}")
        for text in changes.get("removed") or []:
            lines.append(f"  - {text}")
        for pair in changes.get("edited") or []:
            lines.append(f"  ~ {pair.get('from')}")
            lines.append(f"    -> {pair.get('to')}")
    return "\n".join(lines)
