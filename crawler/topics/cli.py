"""Plain functions behind ``newsmon topics list|test`` and ``newsmon flags`` (wired in crawler/cli.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from crawler.errors import ConfigError
from crawler.topics.config import load_topics
from crawler.topics.matcher import TopicMatcher, item_fields

if TYPE_CHECKING:
    from pipelines.storage.config import StoreConfig

__all__ = ["flags_rows", "format_flags", "parse_since", "topics_list_rows", "topics_test"]

def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``30m``/``24h``/``7d``/``2w`` before now, or an ISO date/datetime (naive = UTC)."""
    from crawler.when import parse_since as parse

    return parse(value, now=now)


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
                explain: bool = False, tally: dict[str, int] | None = None) -> int:
    """Read JSON lines, write each back with ``topics: [{slug, score, terms}]``; return the count.

    Each line is a JSON object with ``title`` (or ``headline``) and ``text``; ``summary``/``lead``
    and ``body`` are read too (see ``item_fields``), other fields are kept. The matcher and
    thresholds are the pipeline's. With ``explain``, ``terms`` lists {term, count, field, context,
    matched, weight} objects instead of names. ``tally``, when given, receives ``lines`` and
    ``matched`` (lines with at least one topic).
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
        if tally is not None:
            tally["matched"] = tally.get("matched", 0) + bool(topics)
        out_stream.write(json.dumps(record, ensure_ascii=False, default=_json_default) + "\n")
        count += 1
    if tally is not None:
        tally["lines"] = count
        tally.setdefault("matched", 0)
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
    """A plain-text listing of ``flags_rows``, or a note when empty.

    Three lines per flag, so an 80-column terminal shows it whole: when, topic, score, site and
    kind; the title; the matched terms and the URL.
    """
    if not rows:
        return "No flagged items."
    out = []
    for r in rows:
        when = r["flagged_at"].strftime("%Y-%m-%d %H:%M") if isinstance(r["flagged_at"], datetime) else "?"
        out.append(f"{when}  {r['topic']}  score {r['score']:.1f}  {r['site']}  {r['kind']}")
        out.append(f"  {r['title']}")
        out.append(f"  terms: {_term_list(r['terms'])}")
        if r.get("url"):
            out.append(f"  {r['url']}")
    return "\n".join(out)
