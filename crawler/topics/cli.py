"""Plain functions behind ``newsmon topics list|test`` and ``newsmon flags`` (wired in crawler/cli.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

from crawler.errors import ConfigError
from crawler.topics.config import load_topics
from crawler.topics.matcher import TopicMatcher, item_fields

if TYPE_CHECKING:
    from pipelines.storage.config import StoreConfig

__all__ = ["flags_rows", "format_flags", "parse_since", "topics_list_rows", "topics_test"]

_RELATIVE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.I)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``30m``/``24h``/``7d``/``2w`` before now, or an ISO date/datetime (naive = UTC)."""
    now = now or datetime.now(UTC)
    m = _RELATIVE.match(value)
    if m:
        return now - timedelta(**{_UNITS[m.group(2).lower()]: int(m.group(1))})
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--since {value!r}: use a duration such as 24h, 7d, 30m, 2w or an ISO date "
                          "such as 2024-11-26 or 2024-11-26T09:00Z") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def topics_list_rows(settings: Any) -> list[dict[str, Any]]:
    """One row per configured topic (``TOPICS_FILE``): slug, name, terms, threshold, fields, file."""
    rows = []
    for t in load_topics(settings.get("TOPICS_FILE")):
        rows.append({
            "slug": t.slug, "name": t.name, "description": t.description,
            "terms": len(t.terms), "spellings": sum(len(x.spellings) for x in t.terms),
            "exclusions": len(t.exclusions), "min_score": t.min_score, "fields": list(t.fields),
            "field_weights": dict(t.field_weights), "file": t.path,
        })
    return rows


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def topics_test(in_stream: IO[str], out_stream: IO[str], topics_file: str | None,
                explain: bool = False) -> int:
    """Read JSON lines, write each back with ``topics: [{slug, score, terms}]``; return the count.

    Each line is a JSON object with ``title`` (or ``headline``) and ``text``; ``summary``/``lead``
    and ``body`` are read too (see ``item_fields``), other fields are kept. The matcher and
    thresholds are the pipeline's. With ``explain``, ``terms`` lists {term, count, field, context,
    matched, weight} objects instead of names.
    """
    matcher = TopicMatcher(load_topics(topics_file))
    count = 0
    for lineno, line in enumerate(in_stream, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"line {lineno}: not JSON: {exc}") from exc
        if not isinstance(record, dict):
            raise ConfigError(f"line {lineno}: expected a JSON object")
        topics = []
        for m in matcher.flagged(item_fields(record)):
            entry = m.summary()
            if explain:
                entry["terms"] = [h.as_dict() for h in m.hits]
            topics.append(entry)
        record["topics"] = topics
        out_stream.write(json.dumps(record, ensure_ascii=False, default=_json_default) + "\n")
        count += 1
    return count


def flags_rows(store_config: StoreConfig, topic: str | None, since: datetime | None,
               limit: int) -> list[dict[str, Any]]:
    """Flagged items, newest first: flagged_at, topic, score, kind, site, title, url, terms."""
    from pipelines.storage.flags import open_flag_store

    with open_flag_store(store_config) as store:
        docs = store.find(topic=topic, since=since, limit=limit)
    return [{
        "flagged_at": d.get("flagged_at"), "topic": d.get("topic"), "score": d.get("score"),
        "last_score": d.get("last_score"), "kind": d.get("kind"), "site": d.get("site"),
        "title": d.get("title"), "url": d.get("url"), "published": d.get("published"),
        "item_id": d.get("item_id"),
        "terms": [{"term": t.get("term"), "count": t.get("count"), "field": t.get("field")}
                  for t in d.get("terms", [])],
    } for d in docs]


def _term_list(terms: Iterable[dict[str, Any]]) -> str:
    seen: dict[str, int] = {}
    for t in terms:
        seen[t["term"]] = seen.get(t["term"], 0) + int(t.get("count") or 0)
    return ", ".join(f"{k}×{v}" for k, v in seen.items())


def format_flags(rows: list[dict[str, Any]]) -> str:
    """A plain-text listing of ``flags_rows`` (two lines per flag), or a note when empty."""
    if not rows:
        return "No flagged items."
    out = []
    for r in rows:
        when = r["flagged_at"].strftime("%Y-%m-%d %H:%M") if isinstance(r["flagged_at"], datetime) else "?"
        out.append(f"{when}  {r['topic']:<14} {r['score']:>6.1f}  {r['site']:<12} {r['kind']:<7} {r['title']}")
        out.append(f"{'':18}terms: {_term_list(r['terms'])}" + (f"  {r['url']}" if r.get("url") else ""))
    return "\n".join(out)
